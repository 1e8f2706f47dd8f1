"""Shared fixtures: a ChatKit client on the real ASGI application, and scripted models."""

from __future__ import annotations

import json
from collections.abc import Iterable

import httpx
import pytest
from agents.testing import ScriptedModel

CSRF_TOKEN = "t" * 32  # any 32-char secret works: the cookie and header must match


class ChatKitClient:
    """Speaks the ChatKit protocol to ``POST /chatkit`` through ``chatproject.asgi``.

    Each instance has its own cookie jar, so each is its own anonymous owner.
    """

    def __init__(self, http: httpx.AsyncClient):
        self.http = http

    async def post(self, payload: dict | bytes | str, *, csrf: bool = True, **kwargs) -> httpx.Response:
        content = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        headers = {"Content-Type": "application/json"}
        if csrf:
            headers["X-CSRFToken"] = CSRF_TOKEN
        headers.update(kwargs.pop("headers", {}))
        return await self.http.post("/chatkit", content=content, headers=headers, **kwargs)

    async def request(self, type_: str, **params) -> httpx.Response:
        return await self.post({"type": type_, "params": params})

    async def json(self, type_: str, **params) -> dict:
        response = await self.request(type_, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        return response.json()

    async def stream(self, type_: str, **params) -> list[dict]:
        """Send a streaming request and return its events, decoded."""
        response = await self.request(type_, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        return sse_events(response.text)

    async def new_thread(self, text: str = "Hello there") -> tuple[str, list[dict]]:
        events = await self.stream("threads.create", input=user_input(text))
        return events[0]["thread"]["id"], events


def user_input(text: str, attachments: Iterable[str] = ()) -> dict:
    return {"content": [{"type": "input_text", "text": text}], "attachments": list(attachments), "inference_options": {}}


def sse_events(body: str) -> list[dict]:
    """Decode ``data: {json}\\n\\n`` frames."""
    events = []
    for frame in body.split("\n\n"):
        if frame.startswith("data: "):
            events.append(json.loads(frame[len("data: "):]))
    return events


def assistant_text(events: list[dict]) -> str:
    """The text of the final assistant message among stream events."""
    done = [e["item"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"]
    assert done, f"no assistant message in {[e['type'] for e in events]}"
    return "".join(part["text"] for part in done[-1]["content"])


@pytest.fixture
def make_client():
    """Factory of :class:`ChatKitClient` on the real ASGI app (each a separate owner)."""
    from chatproject.asgi import application

    opened: list[httpx.AsyncClient] = []

    def factory() -> ChatKitClient:
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://testserver"
        )
        http.cookies.set("csrftoken", CSRF_TOKEN)
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
