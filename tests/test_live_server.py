"""The product in a real server process: streaming, and a client that really disconnects."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.helpers import CSRF_TOKEN, user_input
from tests.servers import live_server


def chatkit_client(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30, headers={"X-CSRFToken": CSRF_TOKEN})
    client.cookies.set("csrftoken", CSRF_TOKEN)
    return client


@pytest.mark.parametrize("server", ["uvicorn", "runserver"])
def test_disconnect_saves_the_partial_answer(tmp_path, server):
    """Close the socket mid-answer: the SDK's cancel handling must run under our ASGI stack."""
    words = " ".join(f"word{i}" for i in range(40))
    with live_server(tmp_path, server=server, CHATKIT_ECHO_DELAY="0.1") as live, chatkit_client(live.url) as client:
        deltas, thread_id, arrival = 0, None, []
        body = json.dumps({"type": "threads.create", "params": {"input": user_input(words)}})
        with client.stream("POST", "/chatkit", content=body, headers={"Content-Type": "application/json"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            assert response.headers["x-accel-buffering"] == "no"
            assert "content-encoding" not in response.headers
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                event = json.loads(line[6:])
                if event["type"] == "thread.created":
                    thread_id = event["thread"]["id"]
                if event["type"] == "thread.item.updated":
                    deltas += 1
                    arrival.append(time.monotonic())
                if deltas == 5:
                    break  # leaving the block closes the connection mid-answer
        # Events arrived as they were made, not in one buffered lump.
        assert arrival[-1] - arrival[0] > 0.2

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            kinds = live.query("select type, data from chat_item where thread_id = %s order by seq", thread_id)
            if any(kind == "sdk_hidden_context" for kind, _ in kinds):
                break
            time.sleep(0.2)
        types = [kind for kind, _ in kinds]
        assert types == ["user_message", "assistant_message", "sdk_hidden_context"], types
        stored = kinds[1][1]  # text on SQLite, already decoded (jsonb) on PostgreSQL
        partial = (json.loads(stored) if isinstance(stored, str) else stored)["content"][0]["text"]
        assert partial.startswith("word0 word1") and len(partial.split()) < 40

        # The next turn is answered normally and the model's input carries the interruption.
        events = client.post(
            "/chatkit",
            content=json.dumps(
                {"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("again")}}
            ),
            headers={"Content-Type": "application/json"},
        ).text
        assert '"type":"thread.item.done"' in events
        types = [
            kind for (kind,) in live.query("select type from chat_item where thread_id = %s order by seq", thread_id)
        ]
        assert types[-2:] == ["user_message", "assistant_message"]
