"""``python -m bench.cpu_per_turn [--turns 400] [--block 40]``: a turn's CPU time, ours against the baseline's.

Drives both ASGI applications in this one process (no socket, no client):
ours (``chatproject.asgi``, Django over SQLite) and the FastAPI in-memory
baseline (``bench.apps``), in alternating blocks of ``--block`` turns, each
a 50-word ``threads.add_user_message`` answered by the echo model, on a new
thread every 20 turns. Each block is timed with ``time.process_time()`` (all
threads of the process: the worker threads' SQLite work counts), so what the
machine's other load does to one app it does to the other within seconds.
Prints each app's CPU milliseconds per turn (threads' creations included in
the count) and their ratio.

Throughput at c=16 over HTTP is bound by this CPU on the GIL (the HTTP
servers add their own, the same for both), so ``baseline ÷ ours`` here is what
``python -m bench``'s throughput ratio tends to without the load generator's
and the scheduler's noise. See ``bench/results/profile-issue15.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time

from bench.first_event import CSRF, call, new_thread
from bench.servers import BASE_ENV, migrated_copy

TURNS_PER_THREAD = 20


class Driver:
    """One application, one owner: ``run(n)`` sends ``n`` turns (a new thread every 20)."""

    def __init__(self, app):
        self.app = app
        self.cookie = b"csrftoken=" + CSRF
        self.thread_id: str | None = None
        self.sent = 0  # requests, thread creations included

    async def run(self, n: int) -> None:
        from bench.client import add_req, words

        for _ in range(n):
            if self.thread_id is None or self.sent % (TURNS_PER_THREAD + 1) == 0:
                self.thread_id, self.cookie = await new_thread(self.app, self.cookie)
                self.sent += 1
            _, first, _, _ = await call(self.app, add_req(self.thread_id, words(50)), self.cookie)
            if first is None:
                raise RuntimeError("a turn answered nothing")
            self.sent += 1


async def measure(apps: dict[str, object], turns: int, block: int) -> dict[str, float]:
    """CPU seconds per request of each app, over ``turns`` turns each in alternating blocks."""
    drivers = {name: Driver(app) for name, app in apps.items()}
    for driver in drivers.values():
        await driver.run(block)  # warm-up: imports, compiled SQL, caches
    cpu = dict.fromkeys(drivers, 0.0)
    counted = dict.fromkeys(drivers, 0)
    for _ in range(max(1, turns // block)):
        for name, driver in drivers.items():
            before_sent = driver.sent
            started = time.process_time()
            await driver.run(block)
            cpu[name] += time.process_time() - started
            counted[name] += driver.sent - before_sent
    return {name: cpu[name] / counted[name] for name in drivers}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu_per_turn", description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=400, help="measured turns per app")
    parser.add_argument("--block", type=int, default=40, help="turns per block, alternating apps")
    args = parser.parse_args()
    os.environ.update(BASE_ENV, LOG_LEVEL="ERROR", LOG_FORMAT="text")
    os.environ.pop("BENCH_APP", None)  # bench.apps builds ours; the baseline is built here
    tmp = tempfile.mkdtemp(prefix="bench-cpu-per-turn-")
    db = os.path.join(tmp, "db.sqlite3")
    migrated_copy(db)  # FastAPI too: ChatServer reads the enabled widget templates from Django's DB
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    import bench.apps as apps

    per_request = asyncio.run(
        measure(
            {"django": apps.django_application, "fastapi": apps.fastapi_app("memory", stock=False)},
            args.turns,
            args.block,
        )
    )
    for name, seconds in per_request.items():
        print(f"{name:8s} {seconds * 1000:6.2f} ms of CPU a request")
    print(f"baseline ÷ ours {per_request['fastapi'] / per_request['django']:.2f}")


if __name__ == "__main__":
    main()
