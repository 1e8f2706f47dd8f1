"""Turns in real server processes: racing across two processes, a server killed mid-answer, back-to-back turns.

These need sockets and processes (tests/servers.py): the claim must hold
between processes that share one database, and a SIGKILL must leave nothing
half-done that the next start can't serve.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from chat.threads import CUT_OFF_MARK
from tests.helpers import CSRF_TOKEN, sse_events, user_input
from tests.servers import live_database, live_server, query

JSON = {"Content-Type": "application/json"}


def chatkit_client(url: str, cookies: httpx.Cookies | None = None) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60, headers={"X-CSRFToken": CSRF_TOKEN})
    client.cookies.set("csrftoken", CSRF_TOKEN)
    if cookies is not None:
        client.cookies.update(cookies)
    return client


def post(client: httpx.Client, type_: str, **params) -> httpx.Response:
    return client.post("/chatkit", content=json.dumps({"type": type_, "params": params}), headers=JSON)


def items(database_url, thread_id):
    return query(database_url, "select type, text from chat_item where thread_id = %s order by seq", thread_id)


def answer_of(response: httpx.Response) -> str:
    done = [
        e["item"]
        for e in sse_events(response.text)
        if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
    ]
    assert done, response.text[-500:]
    return "".join(part["text"] for part in done[-1]["content"])


def test_turns_racing_across_two_server_processes(tmp_path):
    with live_database(tmp_path) as database_url:
        delay = {"CHATKIT_ECHO_DELAY": "0.05"}
        with (
            live_server(tmp_path, database_url=database_url, **delay) as one,
            live_server(tmp_path, database_url=database_url, **delay) as two,
        ):
            with chatkit_client(one.url) as first:
                response = post(first, "threads.create", input=user_input("start"))
                thread_id = sse_events(response.text)[0]["thread"]["id"]
                cookies = first.cookies
            texts = [f"message {i} " + " ".join(f"m{i}w{j}" for j in range(12)) for i in range(10)]

            def send(i: int) -> httpx.Response:
                with chatkit_client((one, two)[i % 2].url, cookies) as client:
                    return post(client, "threads.add_user_message", thread_id=thread_id, input=user_input(texts[i]))

            with ThreadPoolExecutor(max_workers=10) as pool:
                responses = list(pool.map(send, range(10)))

            statuses = [r.status_code for r in responses]
            assert set(statuses) <= {200, 409} and 200 in statuses and 409 in statuses, statuses
            for text, response in zip(texts, responses):
                if response.status_code == 200:
                    assert answer_of(response) == text
                else:
                    assert response.json()["error"]["code"] == "thread_busy"
            stored = items(one.database_url, thread_id)[2:]
            assert len(stored) == 2 * statuses.count(200)
            for (ask_type, ask), (answer_type, answer) in zip(stored[::2], stored[1::2]):
                assert (ask_type, answer_type) == ("user_message", "assistant_message") and ask == answer


def test_a_server_killed_mid_answer_restarts_with_a_consistent_thread(tmp_path):
    """SIGKILL mid-answer: the answer so far is kept (marked cut off), the next start serves the thread."""
    with live_database(tmp_path) as database_url:
        turn = {"CHATKIT_TURN_HEARTBEAT_SECONDS": "0.3", "CHATKIT_TURN_STALE_SECONDS": "2"}
        long_text = " ".join(f"word{i}" for i in range(80))  # 8 s at 0.1 s a word
        with (
            live_server(tmp_path, database_url=database_url, CHATKIT_ECHO_DELAY="0.1", **turn) as live,
            chatkit_client(live.url) as client,
        ):
            response = post(client, "threads.create", input=user_input("first question"))
            thread_id = sse_events(response.text)[0]["thread"]["id"]
            body = json.dumps(
                {"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input(long_text)}}
            )
            with (
                contextlib.suppress(httpx.HTTPError),
                client.stream("POST", "/chatkit", content=body, headers=JSON) as stream,
            ):
                # Read ten deltas, keeping the line iterator open: leaving a for loop over it
                # closes the connection, and the server would see a stop before the kill.
                lines, deltas = stream.iter_lines(), 0
                while deltas < 10:
                    line = next(lines)
                    if line.startswith("data: ") and json.loads(line[6:])["type"] == "thread.item.updated":
                        deltas += 1
                # Kill once a heartbeat has saved at least 8 words (each saves what streamed since the last).
                deadline = time.monotonic() + 10
                while not any(
                    kind == "assistant_message" and len(text.split()) >= 10
                    for kind, text in items(live.database_url, thread_id)[2:]
                ):
                    assert time.monotonic() < deadline, "no heartbeat saved the answer so far"
                    time.sleep(0.05)
                os.kill(live.pid, signal.SIGKILL)
            cookies = client.cookies

        # What the kill left: the question, the answer so far marked cut off, and a claim nobody renews.
        stored = items(live.database_url, thread_id)
        assert [kind for kind, _ in stored] == [
            "user_message",
            "assistant_message",
            "user_message",
            "assistant_message",
        ]
        partial = stored[3][1]
        assert partial.endswith(CUT_OFF_MARK)
        assert long_text.startswith(partial.removesuffix(CUT_OFF_MARK)) and len(partial.split()) >= 10
        assert query(live.database_url, "select turn_id is not null from chat_thread where id = %s", thread_id) == [
            (1,)
        ]

        with (
            live_server(tmp_path, database_url=database_url, CHATKIT_ECHO_DELAY="0", **turn) as live,
            chatkit_client(live.url, cookies) as client,
        ):
            thread = post(client, "threads.get_by_id", thread_id=thread_id).json()
            assert [i["type"] for i in thread["items"]["data"]] == [kind for kind, _ in stored]
            # The dead turn's claim expires after CHATKIT_TURN_STALE_SECONDS; then the thread takes turns again.
            deadline = time.monotonic() + 10
            while (
                response := post(client, "threads.add_user_message", thread_id=thread_id, input=user_input("next"))
            ).status_code == 409:
                assert response.json()["error"]["code"] == "thread_busy"
                assert time.monotonic() < deadline, "the dead turn's claim never expired"
                time.sleep(0.25)
            assert response.status_code == 200 and answer_of(response) == "next"
            # Retrying the cut-off question replaces everything after it with exactly one whole answer.
            response = post(
                client, "threads.retry_after_item", thread_id=thread_id, item_id=thread["items"]["data"][2]["id"]
            )
            assert answer_of(response) == long_text
            assert items(live.database_url, thread_id) == [
                ("user_message", "first question"),
                ("assistant_message", "first question"),
                ("user_message", long_text),
                ("assistant_message", long_text),
            ]
            assert query(live.database_url, "select turn_id from chat_thread where id = %s", thread_id) == [(None,)]


@pytest.mark.parametrize("server", ["uvicorn", "daphne"])
def test_a_thread_is_free_the_moment_its_answer_ends(tmp_path, server):
    """The response's end reaches the client only after the turn's release (chat.workers.defer_response_end).

    A stream that ends normally leaves the release to Django's ``close()`` of
    the response, which runs after Django has sent the last body message; that
    message is held until then. So the moment a client has read an answer to
    its end, the thread's claim is gone from the database, and the next
    message, sent at once, is never refused as busy. Without the hold the
    release would land a hop after the end, and these reads would race it.
    """
    with live_server(tmp_path, server=server, CHATKIT_WORKER_THREADS="2") as live, chatkit_client(live.url) as client:
        created = post(client, "threads.create", input=user_input("first"))
        assert created.status_code == 200, created.text[:300]
        thread_id = sse_events(created.text)[0]["thread"]["id"]
        for i in range(20):
            with client.stream(
                "POST",
                "/chatkit",
                content=json.dumps(
                    {
                        "type": "threads.add_user_message",
                        "params": {"thread_id": thread_id, "input": user_input(f"message {i}")},
                    }
                ),
                headers=JSON,
            ) as response:
                assert response.status_code == 200
                body = response.read()  # to the end of the response
                held = query(live.database_url, "select turn_id from chat_thread where id = %s", thread_id)
            assert held == [(None,)], f"turn {i}: the claim outlived its response"
            assert b'"type":"error"' not in body.replace(b" ", b""), body[-300:]
        assert len(items(live.database_url, thread_id)) == 42
