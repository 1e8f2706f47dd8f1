"""``python -m bench.profile [--kind django-uvicorn] [--turns 300]``: where a server's time per turn goes.

Starts one server of ``bench.servers`` (echo model, no delay), attaches
``py-spy record`` to it, and sends ``--turns`` ``threads.add_user_message``
turns one at a time (c=1, as figure 1's latency). Prints, from py-spy's
collapsed stacks (on-CPU samples, every thread):

* per thread name: its share of the samples (event loop vs worker threads);
* the frames with the largest inclusive share, grouped by function and
  file, so Django's middleware, thread hops, the SDK's event serialisation
  and SQL stand out;
* how many threads the server had at the end.

Writes the raw stacks to ``--out`` (``bench/results/profile-<kind>.txt``);
``--speedscope`` writes a speedscope JSON there instead of the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.client import add_req, words
from bench.servers import Server
from bench.workload import HttpSession

RESULTS = Path(__file__).resolve().parent / "results"


async def drive(port: int, turns: int, n_words: int) -> list[tuple[float, float]]:
    s = await HttpSession("127.0.0.1", port).open()
    out = []
    text = words(n_words)
    for _ in range(turns):
        r = await s.client.post(add_req(s.thread_id, text))
        out.append((r.latency, r.ttfe))
    await s.close()
    return out


def summarise(raw: Path, top: int) -> str:
    by_thread: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    total = 0
    ids: set[str] = set()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():  # blank, or a line py-spy cut off when it was stopped
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        # py-spy --threads puts "thread (<id>): <name>" first; pool threads are numbered per pool.
        head = frames[0]
        tid, _, name = head.partition("): ")
        ids.add(tid)
        by_thread[re.sub(r"-\d+(_\d+)?|\d+", "-N", name) if name else head] += n
        seen = set()
        for f in frames[1:]:
            name = _short(f)
            if name not in seen:
                inclusive[name] += n
                seen.add(name)
        if len(frames) > 1:
            own[_short(frames[-1])] += n
    lines = [f"{total} samples from {len(ids)} distinct threads"]
    lines.append("\nby thread:")
    lines += [f"  {n / total:6.1%}  {t}" for t, n in by_thread.most_common(12)]
    lines.append(f"\ninclusive (top {top}):")
    lines += [f"  {n / total:6.1%}  {f}" for f, n in inclusive.most_common(top)]
    lines.append("\nself (top 25):")
    lines += [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(25)]
    return "\n".join(lines)


def _short(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (pkg/file.py)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    parts = where.split("site-packages/")[-1].split("/")
    return f"{name} ({'/'.join(parts[-2:])})"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="django-uvicorn")
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--words", type=int, default=50)
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--out", default=None)
    parser.add_argument("--speedscope", action="store_true")
    parser.add_argument("--streams", type=int, default=0, help="profile figure 3 instead: this many open streams")
    parser.add_argument("--stream-delay", type=float, default=0.5)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = Path(args.out or RESULTS / f"profile-{args.kind}.{'json' if args.speedscope else 'txt'}")
    server = Server(args.kind, args.kind, delay=args.stream_delay if args.streams else 0.0).start()
    try:
        if not args.streams:
            asyncio.run(drive(server.port, 20, args.words))  # warm up
        fmt = "speedscope" if args.speedscope else "raw"
        spy = subprocess.Popen(
            [py_spy, "record", "--pid", str(server.proc.pid), "--rate", str(args.rate), "--threads"]
            + ["--format", fmt, "--output", str(out), "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)
        t0 = time.perf_counter()
        if args.streams:
            from bench.streams import run_streams

            r = asyncio.run(run_streams(server, args.streams, args.words, args.stream_delay, 5.0))
            timings = [(r["lag_p99"], r["ttfe_p99"])]
            print(
                f"streams: lag p50 {r['lag_p50'] * 1000:.0f} ms, p99 {r['lag_p99'] * 1000:.0f} ms, "
                f"threads peak {r['threads_peak']}, {r['mem_per_stream'] / 1024:.0f} KiB per stream, errors {r['errors']}"
            )
        else:
            timings = asyncio.run(drive(server.port, args.turns, args.words))
        wall = time.perf_counter() - t0
        threads = server.threads()
        spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
        spy.wait(30)
    finally:
        server.stop()
    lat = sorted(t[0] for t in timings)
    ttfe = sorted(t[1] for t in timings)
    print(
        f"{args.kind}: {args.turns} turns in {wall:.1f} s; latency p50 {lat[len(lat) // 2] * 1000:.2f} ms, "
        f"ttfe p50 {ttfe[len(ttfe) // 2] * 1000:.2f} ms; {threads} threads at the end"
    )
    if not args.speedscope:
        print(summarise(out, args.top))
    print(f"raw stacks: {out}")


if __name__ == "__main__":
    main()
