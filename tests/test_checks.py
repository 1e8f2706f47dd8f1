"""System checks (chat/checks.py): each one fires for its mistake and stays quiet otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from chat import checks
from tests.servers import PROJECT


@pytest.fixture(autouse=True)
def _development(settings):
    """As `make run` serves it: the test runner turns DEBUG off, which some checks warn about."""
    settings.DEBUG = True


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_the_project_passes_every_check(settings):
    settings.CHATKIT_MODEL = "local"
    call_command("check", fail_level="WARNING")


@pytest.mark.parametrize("spec", ["gpt-4", "local:nope", "echo:x", "openai:", ""])
def test_an_invalid_model_spec_is_e001(settings, spec):
    settings.CHATKIT_MODEL = spec
    found = checks.check_models()
    assert ids(found) == ["chat.E001"] and "openai-compatible:<model>" in found[0].msg


def test_an_invalid_pick_in_chatkit_models_is_e001_and_names_the_entry(settings):
    settings.CHATKIT_MODELS = [{"id": "echo", "label": "Echo"}, {"id": "gtp-4", "label": "typo"}]
    found = checks.check_models()
    assert ids(found) == ["chat.E001"] and found[0].msg.startswith("CHATKIT_MODELS[1]='gtp-4'")


def test_a_malformed_chatkit_models_is_e006(settings):
    settings.CHATKIT_MODELS = ["echo"]
    assert ids(checks.check_models()) == ["chat.E006"]


def test_openai_compatible_without_a_base_url_is_e003(settings):
    settings.CHATKIT_MODEL = "openai-compatible:qwen2.5"
    settings.OPENAI_BASE_URL = ""
    assert ids(checks.check_models()) == ["chat.E003"]
    settings.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"
    assert checks.check_models() == []


def test_openai_without_a_key_warns_w003(settings, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings.CHATKIT_MODEL, settings.OPENAI_API_KEY = "openai:gpt-4.1-mini", ""
    assert ids(checks.check_models()) == ["chat.W003"]


def test_echo_in_production_warns_w002(settings):
    settings.CHATKIT_MODEL, settings.DEBUG = "echo", False
    assert ids(checks.check_models()) == ["chat.W002"]


def test_a_provider_that_does_not_import_is_e007(settings):
    settings.CHATKIT_MODEL_PROVIDERS = {"mine": "no.such.Provider"}
    settings.CHATKIT_MODEL = "mine:x"
    assert ids(checks.check_models()) == ["chat.E007"]


def test_a_provider_of_the_project_passes(settings):
    settings.CHATKIT_MODEL_PROVIDERS = {"scripted": "tests.helpers.ScriptedProvider"}
    settings.CHATKIT_MODEL = "scripted:anything"
    assert checks.check_models() == []


def test_an_unknown_ui_is_e002(settings):
    settings.CHATKIT_UI = "fancy"
    assert ids(checks.check_ui()) == ["chat.E002"]
    settings.CHATKIT_UI = "builtin"
    assert checks.check_ui() == []


def test_wrong_attachment_settings_are_e008(settings):
    assert checks.check_attachments() == []
    settings.CHATKIT_UPLOAD_STRATEGY = "carrier-pigeon"
    settings.CHATKIT_ATTACHMENT_TYPES = ["png"]
    settings.CHATKIT_ATTACHMENT_MAX_BYTES = -1
    found = checks.check_attachments()
    assert ids(found) == ["chat.E008"] * 3
    assert "CHATKIT_UPLOAD_STRATEGY='carrier-pigeon'" in found[0].msg and "'png'" in found[1].msg


@pytest.mark.parametrize(
    "apps, problem",
    [
        (["django.contrib.admin", "chat"], "not in INSTALLED_APPS"),
        (["django.contrib.admin", "daphne", "chat"], "not first"),
    ],
)
def test_daphne_missing_or_not_first_is_e004(monkeypatch, apps, problem):
    # INSTALLED_APPS can't be overridden without reloading the app registry; the check reads only this list.
    monkeypatch.setattr(checks.settings, "INSTALLED_APPS", apps, raising=False)
    found = checks.check_daphne_first()
    assert ids(found) == ["chat.E004"] and problem in found[0].msg


def test_agent_and_owner_paths_that_do_not_import_are_e005(settings):
    settings.CHATKIT_AGENT = "myapp.nope.agent"
    settings.CHATKIT_OWNER = "chat.conf.DEFAULTS"  # imports, but isn't callable
    found = checks.check_extension_points()
    assert ids(found) == ["chat.E005", "chat.E005"]
    assert "myapp.nope.agent" in found[0].msg and "not callable" in found[1].msg


def test_unsafe_production_settings_warn(settings, monkeypatch):
    settings.DEBUG = False
    settings.SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
    settings.CHATKIT_TRACING = True
    monkeypatch.setitem(settings.DATABASES["default"], "CONN_MAX_AGE", 60)
    settings.CHATKIT_WORKER_THREADS = 0  # a thread per request: persistent connections would leak
    assert ids(checks.check_production_safety()) == ["chat.W001", "chat.W004", "chat.W005"]


def test_persistent_connections_are_fine_on_the_worker_threads(settings, monkeypatch):
    monkeypatch.setitem(settings.DATABASES["default"], "CONN_MAX_AGE", None)
    settings.CHATKIT_WORKER_THREADS = 8
    assert "chat.W005" not in ids(checks.check_production_safety())
    settings.CHATKIT_WORKER_THREADS = 0
    assert "chat.W005" in ids(checks.check_production_safety())


def test_manage_py_check_fails_for_a_bad_model_before_any_turn():
    env = {**os.environ, "CHATKIT_MODEL": "gpt-4"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "(chat.E001) CHATKIT_MODEL='gpt-4' is not a valid model spec" in result.stderr


def test_call_command_check_raises_on_errors(settings):
    settings.CHATKIT_UI = "nope"
    with pytest.raises(SystemCheckError, match="chat.E002"):
        call_command("check")


def test_a_limit_that_is_not_a_whole_number_is_an_error(settings):
    from chat.checks import check_limits

    assert check_limits() == []
    settings.CHATKIT_TURNS_PER_MINUTE = -1
    settings.CHATKIT_MAX_OUTPUT_TOKENS = "many"
    assert [e.id for e in check_limits()] == ["chat.E009", "chat.E009"]


def test_bounds_and_turn_timings_out_of_range_are_e011(settings):
    assert checks.check_bounds_settings() == []
    settings.CHATKIT_MAX_PAGE_SIZE = 0
    settings.CHATKIT_MAX_TITLE_CHARS = 1000
    settings.CHATKIT_TURN_HEARTBEAT_SECONDS = 10
    settings.CHATKIT_TURN_STALE_SECONDS = 15
    found = checks.check_bounds_settings()
    assert ids(found) == ["chat.E011"] * 3
    assert "CHATKIT_MAX_PAGE_SIZE=0" in found[0].msg and "255" in found[1].msg and "two heartbeats" in found[2].msg


def test_djangos_security_checks_see_the_loop_middleware(settings):
    """The deploy checks that look for Django's middleware by path still run on chat.loop_middleware's."""
    settings.SECURE_HSTS_SECONDS = 0
    settings.X_FRAME_OPTIONS = "SAMEORIGIN"
    found = ids(checks.check_security_with_loop_middleware())
    assert "security.W004" in found and "security.W019" in found  # HSTS, X-Frame-Options: DENY
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith(".SecurityMiddleware")]
    found = ids(checks.check_security_with_loop_middleware())
    assert "chat.W007" in found and "security.W004" not in found
