"""Figure 3: many open streams on one server process.

``n`` clients (each its own owner and connection) first create a thread;
then they send ``threads.add_user_message``, spread evenly over ``ramp``
seconds (0: all at once), and the echo model
answers each with ``n_words`` words, sleeping ``delay`` seconds before each.

* lag: for every text delta k of a stream, its arrival minus its schedule
  ``t(first delta) + k * delay``; p50/p99/max over all deltas of all streams.
* TTFE under load: request sent to its first frame (p50/p99).
* memory per open stream: (peak server RSS while the streams run - RSS just
  before they start) / streams. ``open_peak`` is the most streams that were
  streaming at once (first frame in, last not yet).
* errors: non-200, an ``error`` event, a missing final assistant message, or
  a client exception (setup included).
"""

from __future__ import annotations

import asyncio
import time

from bench.client import Client, add_req, new_thread, words
from bench.workload import pct

DELTA_MARK = b'"assistant_message.content_part.text_delta"'


async def run_streams(
    server, n: int, n_words: int, delay: float, ramp: float = 0.0, setup_concurrency: int = 100
) -> dict:
    clients = [Client("127.0.0.1", server.port) for _ in range(n)]
    sem = asyncio.Semaphore(setup_concurrency)
    errors = 0
    reasons: dict = {}

    async def setup(c: Client):
        nonlocal errors
        async with sem:
            try:
                c.thread_id = await new_thread(c, "hi")
            except Exception as exc:
                errors += 1
                reasons["setup " + type(exc).__name__] = reasons.get("setup " + type(exc).__name__, 0) + 1
                c.thread_id = None

    await asyncio.gather(*(setup(c) for c in clients))
    await asyncio.sleep(0.5)
    rss_before = server.rss()
    rss_peak = rss_before
    threads_before = threads_peak = server.threads()
    text = words(n_words)
    streaming = 0
    open_peak = 0
    lags: list[float] = []
    timed: list[tuple[float, float]] = []  # (arrival, lag)
    ttfes: list[float] = []
    running = True

    async def sampler():
        nonlocal rss_peak, threads_peak
        while running:
            try:
                rss_peak = max(rss_peak, server.rss())
                threads_peak = max(threads_peak, server.threads())
            except Exception:
                break
            await asyncio.sleep(0.1)

    firsts = 0
    expected = sum(1 for c in clients if c.thread_id is not None)
    all_open_at = float("inf")

    def make_first():
        def first():
            nonlocal streaming, open_peak, firsts, all_open_at
            streaming += 1
            firsts += 1
            if firsts == expected:
                all_open_at = time.perf_counter()
            open_peak = max(open_peak, streaming)

        return first

    def note(why: str, example: str | None = None) -> None:
        reasons[why] = reasons.get(why, 0) + 1
        if example and "example" not in reasons:
            reasons["example"] = example[:300]

    async def one(c: Client, start_at: float):
        nonlocal errors, streaming
        if c.thread_id is None:
            return
        await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
        c.keep_frames = True
        c.on_first = make_first()
        try:
            reply = await c.post(add_req(c.thread_id, text))
        except Exception as exc:
            errors += 1
            note(type(exc).__name__, repr(exc))
            return
        finally:
            c.on_first = None
        streaming -= 1
        if not reply.ok_turn():
            errors += 1
            if reply.status != 200:
                note(f"status {reply.status}", reply.body.decode(errors="replace"))
            else:
                bad = [f.decode(errors="replace") for f in reply.frames if b'"type":"error"' in f]
                note("error event" if bad else "no final message", bad[0] if bad else None)
            return
        ttfes.append(reply.ttfe)
        stamps = [s for f, s in zip(reply.frames, reply.stamps) if DELTA_MARK in f]
        if stamps:
            t0 = stamps[0]
            lags.extend(s - (t0 + k * delay) for k, s in enumerate(stamps))
            timed.extend((s, s - (t0 + k * delay)) for k, s in enumerate(stamps))

    sampler_task = asyncio.ensure_future(sampler())
    t0 = time.perf_counter()
    await asyncio.gather(*(one(c, t0 + ramp * i / n) for i, c in enumerate(clients)))
    wall = time.perf_counter() - t0
    running = False
    await sampler_task
    for c in clients:
        await c.close()
    return {
        "streams": n,
        "words": n_words,
        "delay": delay,
        "ramp": ramp,
        "wall": wall,
        "lag_p50": pct(lags, 50),
        "lag_p99": pct(lags, 99),
        "lag_max": max(lags) if lags else float("nan"),
        # Only deltas after every stream had its first frame: the steady state, without the opening burst.
        "lag_p99_all_open": pct([lag for at, lag in timed if at > all_open_at], 99),
        "all_open_s": all_open_at - t0 if all_open_at != float("inf") else None,
        "ttfe_p50": pct(ttfes, 50),
        "ttfe_p99": pct(ttfes, 99),
        "rss_before": rss_before,
        "rss_peak": rss_peak,
        "open_peak": open_peak,
        "threads_before": threads_before,
        "threads_peak": threads_peak,
        "mem_per_stream": (rss_peak - rss_before) / n,
        "errors": errors,
        "completed": len(ttfes),
        "error_reasons": reasons,
    }
