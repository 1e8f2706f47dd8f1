"""``python -m bench.first_event [--app django|fastapi] [--turns 300]``: where a turn's first event waits.

Drives the ASGI application in this process (no socket, no client), one
``threads.add_user_message`` at a time on one thread, and stamps each turn at
the points it passes: Django's ``request_started``, the first middleware, the
view, the view's worker hop (``_prepare``), the claim, the user message's
insert, the view's return, the response start and the first body byte.
Prints each segment's median (ms from the previous stamp; medians don't add
up to the total exactly) and the median time to the first event. ``--app
fastapi`` runs the FastAPI in-memory baseline (``bench.apps``) the same way:
only the total and the response stamps. Absolute times move with the
machine's load; compare the two apps in one sitting.

The stamps wrap functions from outside (nothing in ``chat/`` knows about
them); a stamp the turn doesn't pass (e.g. no insert for the baseline) is left out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import os
import statistics
import tempfile
import time

from bench.servers import BASE_ENV, migrated_copy

CSRF = b"a" * 32
_stamps: dict[str, float] = {}


def stamp(name: str) -> None:
    _stamps.setdefault(name, time.perf_counter())  # the first pass of a turn counts


def _wrap_sync(owner, name: str, before: str, after: str | None = None) -> None:
    real = getattr(owner, name)

    def wrapped(*args, **kwargs):
        stamp(before)
        result = real(*args, **kwargs)
        if after:
            stamp(after)
        return result

    setattr(owner, name, wrapped)


def instrument_django() -> None:
    """Stamp the points of a Django turn (call before the first request imports the URLconf)."""
    from django.core.signals import request_started

    import chat.protocol
    import chat.requestid
    import chat.store
    import chat.turns
    import chat.views

    async def on_request_started(**kwargs):
        stamp("request_started")

    request_started.connect(on_request_started, weak=False)
    real_acall = chat.requestid.RequestIdMiddleware.__acall__

    async def first_middleware(self, request):
        stamp("first middleware")
        return await real_acall(self, request)

    chat.requestid.RequestIdMiddleware.__acall__ = first_middleware
    real_view = chat.views.chatkit

    async def view(request):
        stamp("view")
        response = await real_view(request)
        stamp("view returned")
        return response

    chat.views.chatkit = view
    _wrap_sync(chat.views, "_prepare", "worker hop (_prepare)", "_prepare done")
    _wrap_sync(chat.views, "parse_request", "owner resolved, parse")
    _wrap_sync(chat.protocol.turns, "claim", "claim", "claim done")
    _wrap_sync(chat.store.DjangoStore, "_upsert_item", "user message insert", "insert done")


def scope(body: bytes, cookie: bytes) -> dict:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-csrftoken", CSRF),
        (b"cookie", cookie),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/chatkit",
        "raw_path": b"/chatkit",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def call(app, body: bytes, cookie: bytes, on_first=None) -> tuple[float, float | None, list, bytes]:
    """One request: (start, first body byte, response headers, body); ``on_first()`` at the first byte."""
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect: the client stays

    first: float | None = None
    headers: list = []
    chunks: list[bytes] = []

    async def send(message):
        nonlocal first, headers
        if message["type"] == "http.response.start":
            headers = message["headers"]
            stamp("response start")
        elif message.get("body"):
            if first is None:
                first = time.perf_counter()
                stamp("first body byte")
                if on_first is not None:
                    on_first()
            chunks.append(message["body"])

    started = time.perf_counter()
    # Its own task in an empty context, as a server runs each request: awaited in the
    # caller's task, what one request leaves in its context (e.g. the URL resolvers'
    # asgiref Locals, ~20 of them) would reach the next and cost each sync_to_async more.
    await asyncio.get_running_loop().create_task(app(scope(body, cookie), receive, send), context=contextvars.Context())
    return started, first, headers, b"".join(chunks)


async def new_thread(app, cookie: bytes) -> tuple[str, bytes]:
    """``threads.create``: the new thread's id, and ``cookie`` with the owner cookie it set (if any)."""
    from bench.client import create_req

    _, _, headers, body = await call(app, create_req("hello"), cookie)
    for name, value in headers:
        owner_cookie = value.split(b";")[0]
        if name.lower() == b"set-cookie" and owner_cookie not in cookie:  # the thread is this owner's
            cookie += b"; " + owner_cookie
    return json.loads(body.split(b"\n\n")[0][6:])["thread"]["id"], cookie


async def measure(app, turns: int, warmup: int = 20) -> dict[str, float]:
    from bench.client import add_req, words

    thread_id, cookie = await new_thread(app, b"csrftoken=" + CSRF)
    segments: dict[str, list[float]] = {}
    for i in range(warmup + turns):
        _stamps.clear()
        started, first, _, _ = await call(app, add_req(thread_id, words(50)), cookie)
        if i < warmup or first is None:
            continue
        segments.setdefault("time to first event", []).append(first - started)
        previous = started
        for name, at in sorted(_stamps.items(), key=lambda kv: kv[1]):
            segments.setdefault(name, []).append(at - previous)
            previous = at
    return {name: statistics.median(values) for name, values in segments.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.first_event", description=__doc__.splitlines()[0])
    parser.add_argument("--app", choices=["django", "fastapi"], default="django")
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    os.environ.update(BASE_ENV, LOG_LEVEL="ERROR", LOG_FORMAT="text", BENCH_APP=args.app, BENCH_STORE="memory")
    tmp = tempfile.mkdtemp(prefix="bench-first-event-")
    db = os.path.join(tmp, "db.sqlite3")
    migrated_copy(db)  # FastAPI too: ChatServer reads the enabled widget templates from Django's DB
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    import bench.apps as apps

    if args.app == "django":
        instrument_django()
    app = apps.fastapi_application if args.app == "fastapi" else apps.django_application
    medians = asyncio.run(measure(app, args.turns))
    for name, seconds in medians.items():
        print(f"{args.app:8s} {name:24s} {seconds * 1000:7.3f} ms")


if __name__ == "__main__":
    main()
