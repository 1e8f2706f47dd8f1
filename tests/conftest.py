"""Shared fixtures: a ChatKit client on the real ASGI application, and scripted models."""

from __future__ import annotations

import httpx
import pytest
from agents.testing import ScriptedModel

from tests.helpers import CSRF_TOKEN, ChatKitClient


def pytest_sessionfinish(session):
    """Remove the SQLite test database's ``-wal`` and ``-shm`` files, which Django's teardown leaves.

    Django deletes the test database file (tests/settings.py names one per
    process); its write-ahead log and shared-memory index stay behind in the
    temp folder, ~1 MB a run.
    """
    import contextlib
    import os

    from django.conf import settings

    if not settings.configured:
        return
    database = settings.DATABASES["default"]
    name = database.get("TEST", {}).get("NAME")
    if database["ENGINE"] != "django.db.backends.sqlite3" or not name or os.path.exists(name):
        return
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name + suffix)


@pytest.fixture
def make_client():
    """Factory of :class:`ChatKitClient` on the real ASGI app (each a separate owner)."""
    from chatproject.asgi import application

    opened: list[httpx.AsyncClient] = []

    def factory() -> ChatKitClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver")
        http.cookies.set("csrftoken", CSRF_TOKEN, domain="testserver.local")  # where the server sets it
        opened.append(http)
        return ChatKitClient(http)

    yield factory


@pytest.fixture
def client(make_client) -> ChatKitClient:
    return make_client()


@pytest.fixture
def use_model(monkeypatch):
    """Answer with the given ``agents.Model`` (e.g. a ``ScriptedModel``) for this test."""
    from chat import server as server_module

    def install(model) -> None:
        monkeypatch.setattr(server_module, "_server", server_module.ChatServer(model=model))

    return install


@pytest.fixture
def scripted(use_model) -> ScriptedModel:
    """A ``ScriptedModel`` installed as the server's model; enqueue its steps in the test."""
    model = ScriptedModel()
    use_model(model)
    return model


@pytest.fixture(autouse=True)
def _echo_by_default(settings):
    """Tests answer with the offline echo model unless they install another one."""
    settings.CHATKIT_MODEL = "echo"
    settings.CHATKIT_ECHO_DELAY = 0.0


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database; on PostgreSQL, its pooled sessions end before it is dropped.

    Worker threads (``sync_to_async``) keep pooled connections of their own
    that no request end returns, and PostgreSQL won't drop a database in use.
    """
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
