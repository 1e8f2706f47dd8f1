"""Memory of the embedded model with several server processes: one model per worker, or one shared.

    python -m bench.model_memory [PROCESSES] [--shared]

Per worker (the default): starts PROCESSES (default 2) Python processes that
each set up Django and load the default local model, as each uvicorn worker
would. ``--shared``: one process loads the model (a model server the workers
would call) and PROCESSES processes set up Django without it. Reports per
process RSS, PSS (shared pages split between the processes that map them) and
private memory, from /proc/<pid>/smaps_rollup, their PSS total, and the
machine's MemAvailable drop. llama.cpp maps the GGUF file (mmap), so the weights are
page-cache pages that every process shares; what each worker adds on its own
is its KV cache and compute buffers.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")
os.environ.setdefault("DEBUG", "1")
import django; django.setup()
import chat.server, chat.views  # what a worker imports to serve /chatkit
if sys.argv[1] == "model":
    from chat.llm.local import LocalModel
    model = LocalModel()
    model.load_sync()
print("loaded", flush=True)
sys.stdin.readline()
"""


def rollup(pid: int) -> dict[str, int]:
    """Fields of /proc/<pid>/smaps_rollup in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value) // 1024
    return fields


def available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 0


def main(count: int, shared: bool = False) -> None:
    before = available()
    roles = (["model"] + ["worker"] * count) if shared else ["model"] * count
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, role],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent.parent,
        )
        for role in roles
    ]
    for child in children:
        assert child.stdout.readline().strip() == "loaded"
    time.sleep(1)
    after = available()
    total = 0
    for role, child in zip(roles, children):
        r = rollup(child.pid)
        total += r["Pss"]
        private = r.get("Private_Clean", 0) + r.get("Private_Dirty", 0)
        print(
            f"{role} pid {child.pid}: RSS {r['Rss']} MiB, PSS {r['Pss']} MiB, private {private} MiB,"
            f" shared {r['Rss'] - private} MiB"
        )
    mode = f"one model server + {count} workers" if shared else f"{count} workers, a model each"
    print(f"{mode}: PSS total {total} MiB; MemAvailable dropped by {before - after} MiB")
    for child in children:
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--shared"]
    main(int(args[0]) if args else 2, shared="--shared" in sys.argv[1:])
