"""Test helpers: a ChatKit protocol client on the ASGI app, request builders and SSE decoding.

Fixtures that use these live in ``conftest.py``; tests import from here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import httpx
from agents import ModelProvider

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
        if csrf:  # the cookie's current value: Django rotates it at login
            headers["X-CSRFToken"] = self.http.cookies.get("csrftoken") or CSRF_TOKEN
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
        return await self.new_thread_with(user_input(text))

    async def new_thread_with(self, input: dict) -> tuple[str, list[dict]]:
        """``threads.create`` with a whole ``UserMessageInput`` dict; returns the thread id and events."""
        events = await self.stream("threads.create", input=input)
        return events[0]["thread"]["id"], events


def user_input(text: str, attachments: Iterable[str] = ()) -> dict:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": list(attachments),
        "inference_options": {},
    }


def sse_events(body: str) -> list[dict]:
    """Decode ``data: {json}\\n\\n`` frames."""
    events = []
    for frame in body.split("\n\n"):
        if frame.startswith("data: "):
            events.append(json.loads(frame[len("data: ") :]))
    return events


def assistant_text(events: list[dict]) -> str:
    """The text of the final assistant message among stream events."""
    done = [e["item"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"]
    assert done, f"no assistant message in {[e['type'] for e in events]}"
    return "".join(part["text"] for part in done[-1]["content"])


def team_owner(request):
    """A custom ``CHATKIT_OWNER`` for tests: everyone sending the same ``X-Team`` header shares threads."""
    from chat.context import RequestContext

    team = request.headers.get("X-Team", "nobody")
    return RequestContext(owner=f"team:{team}", extra={"team": team})


SCRIPTED_MODELS: dict = {}
"""Name -> ``agents.testing.ScriptedModel`` served by :class:`ScriptedProvider`."""


class ScriptedProvider(ModelProvider):
    """A project's own ``agents.ModelProvider`` as ``CHATKIT_MODEL_PROVIDERS`` would name it.

    ``scripted:<name>`` answers with ``SCRIPTED_MODELS[<name>]``.
    """

    def get_model(self, model_name):
        return SCRIPTED_MODELS[model_name]
