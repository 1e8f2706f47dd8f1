"""``python -m bench.daphne_compare [--turns 150] NAME=SPEC ...``: daphne and uvicorn side by side, turn by turn.

Figure 1's measurements (turn latency and time to first event at c=1, the
50-word echo; throughput at c=16) for several servers *at once*: one session
per server, turns alternating between them (who goes first rotates), then
alternating 1.5 s throughput windows. On a shared machine the load then hits
every contender alike, so the ratios (to the first server) hold where the
absolute numbers drift. What ``bench/results/profile-issue15-daphne.md``
measured with.

SPEC is ``KIND[@ROOT][:ARGS]``: KIND ``uvicorn`` (as ``bench.servers`` starts
it), ``daphne`` (the ``daphne`` command) or ``runserver`` (``manage.py
runserver --noreload``, daphne's); ROOT, another checkout of the project to
serve (for before/after in one run: ``git archive <commit> | tar -x -C DIR``);
ARGS, extra command-line arguments, space-separated. Example::

    python -m bench.daphne_compare uvicorn=uvicorn before=daphne@/tmp/before after=daphne rs=runserver
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench import servers as bs
from bench.client import words
from bench.workload import HttpSession, pct


class SpecServer(bs.Server):
    """A :class:`bench.servers.Server` started from a SPEC (see the module's docstring)."""

    def __init__(self, name: str, spec: str, delay: float = 0.0):
        kind, _, args = spec.partition(":")
        kind, _, root = kind.partition("@")
        if kind not in ("uvicorn", "daphne", "runserver"):
            raise ValueError(f"unknown server kind {kind!r} in {spec!r}")
        super().__init__(name, "django-uvicorn" if kind == "uvicorn" else "django-daphne", delay=delay)
        self.how, self.root, self.args = kind, Path(root) if root else bs.ROOT, args.split()

    def start(self, db_path: str | None = None, wait: bool = True) -> SpecServer:
        self.tmp = tempfile.TemporaryDirectory(prefix=f"bench-{self.name}-")
        self.port = bs.free_port()
        self.db_path = db_path or os.path.join(self.tmp.name, "db.sqlite3")
        if db_path is None:
            bs.migrated_copy(self.db_path)
        env = bs.env_with(DATABASE_URL=f"sqlite:///{self.db_path}", CHATKIT_ECHO_DELAY=str(self.delay))
        py = str(bs.VENV_BIN / "python")
        host, port = bs.HOST, str(self.port)
        cmd = {
            "uvicorn": [py, "-m", "uvicorn", self.app, "--host", host, "--port", port, "--no-access-log"]
            + ["--lifespan", "off", "--log-level", "warning"],
            "daphne": [py, "-m", "daphne", "-b", host, "-p", port, self.app],
            "runserver": [py, "manage.py", "runserver", "--noreload", f"{host}:{port}"],
        }[self.how] + self.args
        self.log = Path(self.tmp.name) / "server.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready(120)
        return self


async def compare(servers: dict[str, SpecServer], turns: int, windows: int) -> dict[str, dict]:
    """Per server: ``latency``/``ttfe`` (lists of seconds), ``throughput`` (turns/s per window), ``errors``."""
    text = words(50)
    names = list(servers)
    sessions = {n: await HttpSession(bs.HOST, s.port).open() for n, s in servers.items()}
    for _ in range(10):  # warm up every server alike
        for x in sessions.values():
            await x.turn(text)
    out = {n: {"latency": [], "ttfe": [], "throughput": [], "errors": 0} for n in names}
    for i in range(turns):
        k = i % len(names)
        for n in names[k:] + names[:k]:
            t = await sessions[n].turn(text)
            out[n]["latency"].append(t.latency)
            out[n]["ttfe"].append(t.ttfe)
            out[n]["errors"] += not t.ok
    for x in sessions.values():
        await x.close()
    many = {n: [await HttpSession(bs.HOST, s.port).open() for _ in range(16)] for n, s in servers.items()}
    for n in names:
        await asyncio.gather(*(x.turn(text) for x in many[n]))
    for w in range(windows):
        for n in names if w % 2 == 0 else names[::-1]:
            done = 0
            end = time.perf_counter() + 1.5

            async def worker(x, end=end):
                nonlocal done
                while time.perf_counter() < end:
                    t = await x.turn(text)
                    done += t.ok

            t0 = time.perf_counter()
            await asyncio.gather(*(worker(x) for x in many[n]))
            out[n]["throughput"].append(done / (time.perf_counter() - t0))
    for n in names:
        for x in many[n]:
            await x.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.daphne_compare", description=__doc__.splitlines()[0])
    parser.add_argument("servers", nargs="+", metavar="NAME=SPEC")
    parser.add_argument("--turns", type=int, default=150, help="c=1 turns per server")
    parser.add_argument("--windows", type=int, default=4, help="c=16 throughput windows per server")
    args = parser.parse_args()
    specs = [s.split("=", 1) for s in args.servers]
    servers: dict[str, SpecServer] = {}
    try:
        for name, spec in specs:
            servers[name] = SpecServer(name, spec).start()
        res = asyncio.run(compare(servers, args.turns, args.windows))
    finally:
        for s in servers.values():
            s.stop()
    first = res[specs[0][0]]
    base = (pct(first["latency"], 50), pct(first["ttfe"], 50), statistics.median(first["throughput"]))
    print(f"load {os.getloadavg()[0]:.1f}; {args.turns} turns each, interleaved; ratios to {specs[0][0]}")
    for name, r in res.items():
        lat, ttfe, tput = pct(r["latency"], 50), pct(r["ttfe"], 50), statistics.median(r["throughput"])
        print(
            f"  {name:14s} latency p50 {lat * 1000:6.2f} ms ({lat / base[0]:.2f}x)  "
            f"ttfe p50 {ttfe * 1000:5.2f} ms ({ttfe / base[1]:.2f}x)  "
            f"throughput c=16 {tput:5.1f}/s ({tput / base[2]:.2f}x)  errors {r['errors']}"
        )


if __name__ == "__main__":
    main()
