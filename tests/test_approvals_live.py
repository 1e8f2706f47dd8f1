"""Approvals in real server processes: the paused run survives a restart, and two processes can't both decide it."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

import httpx

from tests.helpers import CSRF_TOKEN, sse_events, user_input
from tests.servers import live_database, live_server


def scripted_env(tmp_path: Path, steps: list[dict]) -> dict[str, str]:
    script, outbox = tmp_path / "script.json", tmp_path / "outbox.jsonl"
    script.write_text(json.dumps(steps))
    outbox.touch()
    return {
        "CHATKIT_MODEL_PROVIDERS": json.dumps({"scripted-file": "tests.scripted_file.FileScriptProvider"}),
        "CHATKIT_MODEL": f"scripted-file:{script}",
        "CHATKIT_AGENT": "tests.approval_agent.approval_agent",
        "CHATKIT_TEST_OUTBOX": str(outbox),
    }


def sent(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]


def stream(http: httpx.Client, url: str, type_: str, **params) -> list[dict]:
    response = http.post(
        url + "/chatkit",
        content=json.dumps({"type": type_, "params": params}),
        headers={"Content-Type": "application/json", "X-CSRFToken": CSRF_TOKEN},
    )
    assert response.status_code == 200, response.text
    return sse_events(response.text)


def approval(events: list[dict]) -> tuple[str, str, dict]:
    """(thread id, card item id, the Approve action) of a paused turn."""
    thread_id = events[0]["thread"]["id"]
    card = next(
        e["item"] for e in events if e["type"] == "thread.item.done" and "Approve this action?" in json.dumps(e["item"])
    )
    text = json.dumps(card["widget"])
    approval_id = text.split('"approval": "', 1)[1].split('"', 1)[0]
    return (
        thread_id,
        card["id"],
        {"type": "approval.approve", "handler": "server", "payload": {"approval": approval_id}},
    )


def answer(events: list[dict]) -> str:
    done = [e["item"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"]
    return "".join(p["text"] for p in done[-1]["content"]) if done else ""


def test_a_paused_run_survives_a_restart_and_is_decided_once_across_processes(tmp_path):
    env = scripted_env(
        tmp_path,
        [
            {"call": "send_email", "arguments": {"to": "ana@example.com", "subject": "one"}},
            {"call": "send_email", "arguments": {"to": "bob@example.com", "subject": "two"}},
            {"say": "Sent it."},
            {"say": "Sent it too."},
        ],
    )
    http = httpx.Client(timeout=60)
    http.cookies.set("csrftoken", CSRF_TOKEN)

    with live_database(tmp_path) as database_url:
        with live_server(tmp_path, database_url=database_url, **env) as first:
            first_pause = approval(stream(http, first.url, "threads.create", input=user_input("Email Ana")))
            second_pause = approval(stream(http, first.url, "threads.create", input=user_input("Email Bob")))
        assert sent(tmp_path) == []  # nothing ran, and that server is gone

        with contextlib.ExitStack() as stack:
            # Two new processes (different servers) on the same database.
            one = stack.enter_context(live_server(tmp_path, server="uvicorn", database_url=database_url, **env))
            two = stack.enter_context(live_server(tmp_path, server="daphne", database_url=database_url, **env))

            thread_id, item_id, approve = first_pause
            events = stream(
                http, one.url, "threads.custom_action", thread_id=thread_id, item_id=item_id, action=approve
            )
            assert answer(events) == "Sent it."
            assert [m["to"] for m in sent(tmp_path)] == ["ana@example.com"]

            # Both processes get the same click at once: exactly one decides it.
            thread_id, item_id, approve = second_pause
            results: list[list[dict]] = []
            busy: list[dict] = []
            barrier = threading.Barrier(2)

            def click(url: str) -> None:
                barrier.wait()
                response = http.post(
                    url + "/chatkit",
                    content=json.dumps(
                        {
                            "type": "threads.custom_action",
                            "params": {"thread_id": thread_id, "item_id": item_id, "action": approve},
                        }
                    ),
                    headers={"Content-Type": "application/json", "X-CSRFToken": CSRF_TOKEN},
                )
                if response.status_code == 409:  # the other click holds the thread's turn (chat/turns.py)
                    busy.append(response.json())
                else:
                    assert response.status_code == 200, response.text
                    results.append(sse_events(response.text))

            threads = [threading.Thread(target=click, args=(url,)) for url in (one.url, two.url)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            # One click runs the tool; the other is refused: 409 while that turn runs, or "already approved" after.
            answers = [answer(r) for r in results if r[-1]["type"] != "error"]
            errors = [r[-1]["message"] for r in results if r[-1]["type"] == "error"]
            assert answers == ["Sent it too."], results
            assert len(errors) + len(busy) == 1, (results, busy)
            assert all("already approved" in e for e in errors)
            assert [m["to"] for m in sent(tmp_path)] == ["ana@example.com", "bob@example.com"]
