"""Figure 4: ``items.list`` and ``threads.get_by_id`` on threads of 10, 1,000 and 100,000 items.

``python -m bench.history DB_PATH 10,1000,100000`` (run with
``DATABASE_URL`` pointing at a migrated DB) seeds one anonymous owner's
threads directly with ``bulk_create`` (not through the API), then counts
the SQL statements each request runs in-process (a counter installed on
every connection as it is created, so worker threads are counted too) and
prints ``{"session": ..., "threads": {size: id}, "queries": {...}}``.
The latency is then measured over HTTP against a server on the same DB
(:func:`measure_latency`).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import threading
import time
from datetime import datetime, timedelta

CSRF = "b" * 32
REQUESTS = {
    "items.list": lambda tid: {"type": "items.list", "params": {"thread_id": tid, "limit": 20, "order": "desc"}},
    "threads.get_by_id": lambda tid: {"type": "threads.get_by_id", "params": {"thread_id": tid}},
}


def seed(sizes: list[int]) -> dict:
    from chatkit.types import (
        AssistantMessageContent,
        AssistantMessageItem,
        InferenceOptions,
        ThreadMetadata,
        UserMessageItem,
        UserMessageTextContent,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction
    from django.utils import timezone

    from chat import models
    from chat.context import ANON_SESSION_KEY
    from chat.store import dump_item, dump_thread, new_id
    from chat.threads import item_text

    token = secrets.token_urlsafe(18)
    owner = f"anon:{token}"
    session = SessionStore()
    session[ANON_SESSION_KEY] = token
    session.save()

    text = " ".join(f"word{i}" for i in range(20))
    base = datetime(2026, 1, 1)
    threads: dict[int, str] = {}
    seed_seconds: dict[int, float] = {}
    for size in sizes:
        t0 = time.perf_counter()
        tid = new_id("thread")
        meta = ThreadMetadata(id=tid, created_at=base, title=f"{size} items")
        with transaction.atomic():
            models.Thread.objects.create(
                id=tid,
                owner=owner,
                title=meta.title,
                status="active",
                created_at=timezone.make_aware(base),
                data=dump_thread(meta),
            )
            batch = []
            for i in range(size):
                at = base + timedelta(seconds=i)
                if i % 2 == 0:
                    item = UserMessageItem(
                        id=new_id("message"),
                        thread_id=tid,
                        created_at=at,
                        content=[UserMessageTextContent(text=text)],
                        attachments=[],
                        inference_options=InferenceOptions(),
                    )
                else:
                    item = AssistantMessageItem(
                        id=new_id("message"),
                        thread_id=tid,
                        created_at=at,
                        content=[AssistantMessageContent(text=text)],
                    )
                batch.append(
                    models.Item(
                        id=item.id,
                        thread_id=tid,
                        owner=owner,
                        type=item.type,
                        created_at=timezone.make_aware(at),
                        text=item_text(item),
                        data=dump_item(item),
                    )
                )
                if len(batch) >= 5000:
                    models.Item.objects.bulk_create(batch, batch_size=500)
                    batch = []
            if batch:
                models.Item.objects.bulk_create(batch, batch_size=500)
        threads[size] = tid
        seed_seconds[size] = time.perf_counter() - t0
    return {"session": session.session_key, "owner": owner, "threads": threads, "seed_seconds": seed_seconds}


class StatementLog:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, execute, sql, params, many, context):
        with self.lock:
            self.statements.append(sql)
        return execute(sql, params, many, context)


async def count_queries(session_key: str, threads: dict[int, str]) -> dict:
    """Statements per request, in-process through the ASGI app (``httpx.ASGITransport``)."""
    import httpx
    from django.db import connections
    from django.db.backends.signals import connection_created

    from bench.apps import django_application

    log = StatementLog()

    def install(sender, connection, **kwargs):
        if log not in connection.execute_wrappers:
            connection.execute_wrappers.append(log)

    connection_created.connect(install, weak=False)
    for conn in connections.all(initialized_only=True):
        install(None, conn)

    out: dict = {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=django_application), base_url="http://127.0.0.1"
    ) as http:
        http.cookies.set("csrftoken", CSRF)
        http.cookies.set("sessionid", session_key)
        headers = {"X-CSRFToken": CSRF, "Content-Type": "application/json"}

        async def run(payload: dict) -> tuple[int, list[str]]:
            log.statements.clear()
            r = await http.post("/chatkit", content=json.dumps(payload), headers=headers)
            assert r.status_code == 200, r.text[:300]
            return len(log.statements), list(log.statements)

        for name, make in REQUESTS.items():
            for size, tid in threads.items():
                await run(make(tid))  # warm
                out.setdefault(name, {})[str(size)] = (await run(make(tid)))[0]
        # One steady-state turn on the smallest thread (after a first one).
        small = threads[min(threads)]

        def turn(text):
            return {
                "type": "threads.add_user_message",
                "params": {
                    "thread_id": small,
                    "input": {
                        "content": [{"type": "input_text", "text": text}],
                        "attachments": [],
                        "inference_options": {},
                    },
                },
            }

        await run(turn("warm up"))
        n, statements = await run(turn(" ".join(f"w{i}" for i in range(50))))
        out["turn"] = n
        out["turn_statements"] = [s[:120] for s in statements]
    return out


async def measure_latency(port: int, session_key: str, threads: dict[str, str], n: int) -> dict:
    """p50/p99 latency of each request type on each thread size, interleaved, over HTTP."""
    from bench.client import Client
    from bench.workload import pct

    client = Client("127.0.0.1", port)
    client.cookies["sessionid"] = session_key
    samples: dict = {name: {size: [] for size in threads} for name in REQUESTS}
    errors = 0
    for i in range(n + 3):
        for name, make in REQUESTS.items():
            for size, tid in threads.items():
                reply = await client.post(make(tid))
                if reply.status != 200:
                    errors += 1
                elif i >= 3:  # the first rounds warm up
                    samples[name][size].append(reply.latency)
    await client.close()
    return {
        "p50": {name: {size: pct(v, 50) for size, v in d.items()} for name, d in samples.items()},
        "p99": {name: {size: pct(v, 99) for size, v in d.items()} for name, d in samples.items()},
        "errors": errors,
    }


if __name__ == "__main__":
    import django

    django.setup()
    sizes = [int(s) for s in sys.argv[2].split(",")]
    seeded = seed(sizes)
    seeded["queries"] = asyncio.run(count_queries(seeded["session"], seeded["threads"]))
    sys.stdout.write("\n" + json.dumps(seeded) + "\n")
