"""The turn workload (figures 1 and 2), shared by the HTTP contenders and the in-process floor.

A *session* is one owner with one thread; ``await session.turn(text)``
returns a :class:`Turn`. The same code drives a :class:`bench.client.Client`
over HTTP and ``ChatServer.process`` in-process, so both are measured alike.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

from bench.client import Client, add_req, new_thread, words


@dataclass
class Turn:
    ok: bool
    latency: float
    ttfe: float
    frames: int


@dataclass
class Config:
    warmup: int = 8
    n_latency: int = 36
    n_events: int = 5
    big_words: int = 200
    small_words: int = 5
    concurrency: int = 16
    duration: float = 2.0
    turn_words: int = 50

    @classmethod
    def quick(cls) -> Config:
        return cls(warmup=3, n_latency=15, n_events=3, concurrency=16, duration=1.0)


class HttpSession:
    def __init__(self, host: str, port: int):
        self.client = Client(host, port, keep_frames=False)
        self.thread_id: str | None = None

    async def open(self) -> HttpSession:
        self.thread_id = await new_thread(self.client, "hello")
        return self

    async def turn(self, text: str) -> Turn:
        r = await self.client.post(add_req(self.thread_id, text))
        return Turn(r.ok_turn(), r.latency, r.ttfe, r.nframes)

    async def close(self) -> None:
        await self.client.close()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


async def run_turns(open_session, cfg: Config) -> dict:
    """Figures 1 and 2 for one contender: latency c=1, TTFE, per-event cost, throughput c=N."""
    s = await open_session()
    text = words(cfg.turn_words)
    errors = 0
    for _ in range(cfg.warmup):
        t = await s.turn(text)
        errors += not t.ok
    lat, ttfe, frames = [], [], []
    for _ in range(cfg.n_latency):
        t = await s.turn(text)
        errors += not t.ok
        lat.append(t.latency)
        ttfe.append(t.ttfe)
        frames.append(t.frames)
    small, big, fs, fb = [], [], [], []
    for _ in range(cfg.n_events):
        a = await s.turn(words(cfg.small_words))
        b = await s.turn(words(cfg.big_words))
        errors += (not a.ok) + (not b.ok)
        small.append(a.latency)
        big.append(b.latency)
        fs.append(a.frames)
        fb.append(b.frames)
    if hasattr(s, "close"):
        await s.close()

    sessions = [await open_session() for _ in range(cfg.concurrency)]
    await asyncio.gather(*(x.turn(text) for x in sessions))  # warm every connection
    done = 0
    end = time.perf_counter() + cfg.duration
    tput_errors = 0

    async def worker(x):
        nonlocal done, tput_errors
        while time.perf_counter() < end:
            t = await x.turn(text)
            if t.ok:
                done += 1
            else:
                tput_errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(x) for x in sessions))
    elapsed = time.perf_counter() - t0
    for x in sessions:
        if hasattr(x, "close"):
            await x.close()
    extra = statistics.median(fb) - statistics.median(fs)
    return {
        "latency": lat,
        "ttfe": ttfe,
        "frames_per_turn": statistics.median(frames),
        "event_cost": (statistics.median(big) - statistics.median(small)) / extra if extra > 0 else float("nan"),
        "throughput": done / elapsed,
        "errors": errors + tput_errors,
    }


async def http_turns(host: str, port: int, cfg: Config) -> dict:
    return await run_turns(lambda: HttpSession(host, port).open(), cfg)
