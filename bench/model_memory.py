"""Memory of the embedded model with several server processes: one model per worker, measured.

    python -m bench.model_memory [PROCESSES]

Starts PROCESSES (default 2) Python processes that each load the default
local model and answer one short prompt, as each uvicorn worker would, and
reports per process RSS, PSS (shared pages split between the processes that
map them) and private memory, from /proc/<pid>/smaps_rollup, and the machine's
MemAvailable drop. llama.cpp maps the GGUF file (mmap), so the weights are
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
import django; django.setup()
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


def main(count: int) -> None:
    before = available()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent.parent,
        )
        for _ in range(count)
    ]
    for child in children:
        assert child.stdout.readline().strip() == "loaded"
    time.sleep(1)
    after = available()
    for child in children:
        r = rollup(child.pid)
        private = r.get("Private_Clean", 0) + r.get("Private_Dirty", 0)
        print(
            f"pid {child.pid}: RSS {r['Rss']} MiB, PSS {r['Pss']} MiB, private {private} MiB, shared {r['Rss'] - private} MiB"
        )
    print(f"{count} processes: MemAvailable dropped by {before - after} MiB")
    for child in children:
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
