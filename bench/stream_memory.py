"""``python -m bench.stream_memory [--app django|fastapi] [--streams 100]``: what each open stream holds.

Opens ``--streams`` ``threads.add_user_message`` streams at once in this
process (the ASGI app driven directly, as :mod:`bench.first_event` does; the
echo model at ``CHATKIT_ECHO_DELAY=0.5`` s a word keeps them open), waits
until every one has sent its first event and a few heartbeats have passed,
and compares a ``tracemalloc`` snapshot with one taken before they opened.
Prints the Python heap each open stream holds and the source lines that
allocated most of it. Figure 3 of ``python -m bench`` measures the same
thing as RSS from outside (which adds the allocator's own overhead).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import tempfile
import tracemalloc

from bench.first_event import CSRF, call
from bench.servers import BASE_ENV, migrated_copy


async def measure(app, n: int, top: int) -> list[str]:
    from bench.client import add_req, create_req, words

    async def new_owner(i: int) -> tuple[str, bytes]:
        cookie = b"csrftoken=" + CSRF
        _, _, headers, body = await call(app, create_req("hi"), cookie)
        for name, value in headers:
            if name.lower() == b"set-cookie":
                cookie += b"; " + value.split(b";")[0]
        return json.loads(body.split(b"\n\n")[0][6:])["thread"]["id"], cookie

    owners = await asyncio.gather(*(new_owner(i) for i in range(n)))
    gc.collect()
    tracemalloc.start(10)
    before = tracemalloc.take_snapshot()
    opened = [asyncio.Event() for _ in range(n)]

    async def stream(thread_id: str, cookie: bytes, first: asyncio.Event) -> None:
        await call(app, add_req(thread_id, words(40)), cookie, on_first=first.set)

    tasks = [asyncio.ensure_future(stream(t, c, e)) for (t, c), e in zip(owners, opened)]
    await asyncio.gather(*(e.wait() for e in opened))
    await asyncio.sleep(3.0)  # a heartbeat or two
    gc.collect()
    stats = tracemalloc.take_snapshot().compare_to(before, "lineno")
    total = sum(s.size_diff for s in stats)
    lines = [f"{total / n / 1024:.1f} KiB of Python heap per open stream ({n} streams)"]
    for s in stats[:top]:
        frame = s.traceback[0]
        where = frame.filename.split("site-packages/")[-1]
        lines.append(f"  {s.size_diff / n:7.0f} B  {s.count_diff / n:5.1f} blocks  {where}:{frame.lineno}")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--app", choices=["django", "fastapi"], default="django")
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    os.environ.update(BASE_ENV, LOG_LEVEL="ERROR", LOG_FORMAT="text", BENCH_APP=args.app, BENCH_STORE="memory")
    os.environ["CHATKIT_ECHO_DELAY"] = "0.5"
    tmp = tempfile.mkdtemp(prefix="bench-stream-memory-")
    db = os.path.join(tmp, "db.sqlite3")
    migrated_copy(db)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    import bench.apps as apps

    app = apps.fastapi_application if args.app == "fastapi" else apps.django_application
    for line in asyncio.run(measure(app, args.streams, args.top)):
        print(f"{args.app}: {line}")


if __name__ == "__main__":
    main()
