"""Beyond one process: two servers on one database and one Redis, turns alternating between them.

A third connection (a live socket on the first server) watches the thread
and sees every item of every turn, whichever process wrote it; nothing is
lost in the database either. Needs Redis (``REDIS_URL``): without it each
process has its own in-memory channel layer, by design.
"""

from __future__ import annotations

import asyncio
import json
import os

import httpx
import pytest
import websockets

from tests.helpers import sse_events, user_input
from tests.servers import live_database, live_server

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL): make test-postgres")

TURNS = 6


async def test_turns_alternate_between_two_processes_and_a_third_connection_sees_them_all(tmp_path):
    with (
        live_database(tmp_path) as database_url,
        live_server(tmp_path, database_url=database_url) as first,
        live_server(tmp_path, database_url=database_url) as second,
    ):
        servers = [first, second]
        async with httpx.AsyncClient(timeout=30) as http:
            page = await http.get(first.url + "/")  # the session (in the database) is valid on both
            token = http.cookies["csrftoken"]  # set by the page
            cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())

            async def turn(server, request_type: str, **params) -> list[dict]:
                response = await http.post(
                    server.url + "/chatkit",
                    content=json.dumps({"type": request_type, "params": params}),
                    headers={"Content-Type": "application/json", "X-CSRFToken": token},
                )
                assert response.status_code == 200, response.text
                return sse_events(response.text)

            assert page.status_code == 200
            events = await turn(first, "threads.create", input=user_input("turn 0"))
            thread_id = events[0]["thread"]["id"]

            async with websockets.connect(
                first.url.replace("http://", "ws://") + "/chatkit/live",
                additional_headers={"Cookie": cookie, "Origin": first.url},
            ) as socket:
                await socket.send(json.dumps({"type": "subscribe", "thread_id": thread_id}))
                assert json.loads(await socket.recv())["type"] == "subscribed"

                done_ids, answers = [], []
                for n in range(1, TURNS + 1):
                    server = servers[n % 2]  # second, first, second, …
                    streamed = await turn(
                        server, "threads.add_user_message", thread_id=thread_id, input=user_input(f"turn {n}")
                    )
                    answers.append(
                        next(
                            e["item"]["id"]
                            for e in streamed
                            if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
                        )
                    )
                    # The watcher gets this turn's user message and answer, live, from either process.
                    while True:
                        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
                        event = message["event"]
                        if event["type"] == "thread.item.done":
                            done_ids.append(event["item"]["id"])
                            if event["item"]["type"] == "assistant_message":
                                assert event["item"]["content"][0]["text"].startswith(f"turn {n}")
                                break

        stored = first.query("select id, type, text from chat_item where thread_id = %s order by seq", thread_id)
        assert [t for _, t, _ in stored] == ["user_message", "assistant_message"] * (TURNS + 1)
        assert [text for _, t, text in stored if t == "user_message"] == [f"turn {n}" for n in range(TURNS + 1)]
        assert done_ids == [item_id for item_id, _, _ in stored[2:]]  # every item after subscribing, in order
        assert answers == [item_id for item_id, t, _ in stored[2:] if t == "assistant_message"]


def test_rate_limits_hold_across_two_processes_on_one_redis(tmp_path):
    """A turn limit is one count in Redis: turns spread over two processes share it (issue 14)."""
    limit = {"CHATKIT_TURNS_PER_MINUTE": "3"}
    with (
        live_database(tmp_path) as database_url,
        live_server(tmp_path, database_url=database_url, **limit) as first,
        live_server(tmp_path, database_url=database_url, **limit) as second,
        httpx.Client(timeout=30) as http,
    ):
        http.get(first.url + "/")  # the owner cookie and CSRF token, valid on both
        token = http.cookies["csrftoken"]

        def ask(server, n: int) -> httpx.Response:
            body = {"type": "threads.create", "params": {"input": user_input(f"turn {n}")}}
            return http.post(
                server.url + "/chatkit",
                content=json.dumps(body),
                headers={"Content-Type": "application/json", "X-CSRFToken": token},
            )

        statuses = [ask((first, second)[n % 2], n).status_code for n in range(4)]
        assert statuses == [200, 200, 200, 429], statuses  # one process alone counted 2, the other 2
