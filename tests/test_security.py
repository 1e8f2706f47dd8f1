"""Safe defaults in the running app: sessions, Content-Security-Policy, the admin's login throttle, check --deploy."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest
from asgiref.sync import sync_to_async
from django.contrib.sessions.models import Session

from tests.helpers import CSRF_TOKEN
from tests.servers import PROJECT

pytestmark = pytest.mark.django_db(transaction=True)


# --- sessions ------------------------------------------------------------------


async def test_a_page_view_writes_no_database_row(client):
    pages = [await client.http.get("/") for _ in range(5)]
    assert all(page.status_code == 200 for page in pages)
    assert await Session.objects.acount() == 0
    [owner_cookie] = [c for c in pages[0].headers.get_list("set-cookie") if c.startswith("chatkit_owner=")]
    assert not any("chatkit_owner=" in c for page in pages[1:] for c in page.headers.get_list("set-cookie"))
    assert "chatkit_owner=" in owner_cookie and "HttpOnly" in owner_cookie and "SameSite=Lax" in owner_cookie


async def test_chatting_anonymously_writes_no_session_row_either(client):
    await client.http.get("/")
    await client.new_thread("hello")
    assert await Session.objects.acount() == 0


async def test_a_forged_owner_cookie_is_a_new_owner(client, make_client):
    await client.http.get("/")
    thread_id, _ = await client.new_thread("mine")
    token = client.http.cookies.get("chatkit_owner")
    intruder = make_client()
    intruder.http.cookies.set("chatkit_owner", token.split(":")[0], domain="testserver.local")  # unsigned
    assert (await intruder.request("threads.get_by_id", thread_id=thread_id)).status_code == 404


# --- Content-Security-Policy ------------------------------------------------------


def policy(response) -> dict[str, list[str]]:
    header = response.headers["content-security-policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


async def test_the_builtin_client_page_allows_nothing_external(client, settings):
    settings.CHATKIT_UI = "builtin"
    page = await client.http.get("/")
    csp = policy(page)
    nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"]).group(1)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert csp["img-src"] == ["'self'", "data:"]  # a model-written remote image is not fetched
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert "openai" not in page.headers["content-security-policy"]
    # The page's one inline script carries the nonce; every other script is a file of this origin.
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)([^>]*)>", page.text)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline), inline
    assert (await client.http.get("/")).headers["content-security-policy"] != page.headers["content-security-policy"]


@pytest.mark.parametrize("ui", ["chatkit", "auto"])
async def test_the_chatkit_page_allows_openais_chatkit_origins(client, settings, ui):
    settings.CHATKIT_UI = ui
    csp = policy(await client.http.get("/"))
    cdn = "https://cdn.platform.openai.com"
    assert cdn in csp["script-src"] and "'self'" in csp["script-src"]
    assert csp["frame-src"] == [cdn]
    assert "https://api.openai.com" in csp["connect-src"]
    assert csp["img-src"] == ["'self'", "data:", cdn]


async def test_api_answers_carry_the_settings_policy_and_follow_its_changes(client, settings):
    from csp.utils import build_policy

    answer = await client.request("threads.list", limit=5)
    assert answer.headers["content-security-policy"] == build_policy()  # built once, still the settings' own
    assert "nonce-" not in answer.headers["content-security-policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert (await client.request("threads.list", limit=5)).headers["content-security-policy"] == "default-src 'none'"


async def test_the_admin_has_a_policy_too(client):
    page = await client.http.get("/admin/login/")
    assert policy(page)["default-src"] == ["'self'"]


# --- the admin's login throttle (django-axes) ------------------------------------------


async def test_wrong_admin_passwords_lock_the_username_out(client, make_client, settings):
    from django.contrib.auth import get_user_model

    await sync_to_async(get_user_model().objects.create_user)("ada", password="right-password", is_staff=True)

    async def login(who, password):
        return await who.http.post(
            "/admin/login/?next=/admin/",
            data={"username": "ada", "password": password, "csrfmiddlewaretoken": CSRF_TOKEN},
        )

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert (await login(client, "wrong")).status_code == 200  # the form again, with an error
    locked = await login(client, "wrong")
    assert locked.status_code == 429
    # Now even the right password is refused from that address, for that username.
    assert (await login(client, "right-password")).status_code == 429
    assert (await login(make_client(), "right-password")).status_code == 429


async def test_a_right_password_before_the_limit_resets_the_count(client, settings):
    from django.contrib.auth import get_user_model

    await sync_to_async(get_user_model().objects.create_user)("bo", password="right-password", is_staff=True)
    data = {"username": "bo", "csrfmiddlewaretoken": CSRF_TOKEN}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        await client.http.post("/admin/login/", data={**data, "password": "wrong"})
    assert (await client.http.post("/admin/login/", data={**data, "password": "right-password"})).status_code == 302


# --- manage.py check --deploy ----------------------------------------------------------


def production_env(tmp_path, **overrides) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CHATKIT_", "DEBUG"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "chatproject.settings",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "chat.example.com",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        }
    )
    env.pop("DEBUG", None)
    env.update(overrides)
    return env


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    """DEBUG unset (off by default), a real key, a real host name: not one warning."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_is_off_unless_turned_on(tmp_path):
    code = "import django; django.setup(); from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["False", "True", "True", "31536000", "True"], result.stderr
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=production_env(tmp_path, DEBUG="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True", "False", "False", "0", "False"], result.stderr


def test_make_run_turns_debug_on():
    makefile = (PROJECT / "Makefile").read_text()
    assert re.search(r"^\tDEBUG=1 \$\(PY\) manage.py runserver", makefile, re.M)
