"""Shared fixtures: a ChatKit client on the real ASGI application, and scripted models."""

from __future__ import annotations

import httpx
import pytest
from agents.testing import ScriptedModel

from tests.helpers import CSRF_TOKEN, ChatKitClient


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
