"""The floor: ``ChatServer`` called in-process (in-memory store, no HTTP), in its own process.

``python -m bench.floor '<config json>'`` prints ``{"stock": {...}, "fixed": {...}}``:
the turn workload with the SDK's stock ``ChatKitServer.process`` and with
``ChatServer.process`` (one ``TypeAdapter`` per process), in the given order.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

from bench.apps import build_server, process_fn  # sets up Django
from bench.client import create_req, add_req
from bench.stores import MemoryStore
from bench.workload import Config, Turn, run_turns
from chat.context import RequestContext


class FloorSession:
    def __init__(self, process):
        self.process = process
        self.owner = f"anon:{uuid.uuid4().hex}"
        self.thread_id: str | None = None

    async def _run(self, body: bytes) -> tuple[Turn, bytes]:
        t0 = time.perf_counter()
        result = await self.process(body, RequestContext(owner=self.owner))
        first = None
        n = 0
        tail: list[bytes] = []
        head = b""
        error = False
        async for chunk in result:
            if first is None:
                first = time.perf_counter()
                head = chunk
            n += 1
            tail.append(chunk)
            if len(tail) > 6:
                del tail[0]
            error = error or b'"type":"error"' in chunk
        t = time.perf_counter()
        ok = not error and any(b'"thread.item.done"' in c and b'"assistant_message"' in c for c in tail)
        return Turn(ok, t - t0, (first or t) - t0, n), head

    async def open(self) -> FloorSession:
        _, head = await self._run(create_req("hello"))
        self.thread_id = json.loads(head[6:])["thread"]["id"]
        return self

    async def turn(self, text: str) -> Turn:
        turn, _ = await self._run(add_req(self.thread_id, text))
        return turn


async def main(cfg: Config, order: list[str]) -> dict:
    server = build_server(MemoryStore())
    out = {}
    for variant in order:
        process = process_fn(server, stock=(variant == "stock"))
        out[variant] = await run_turns(lambda process=process: FloorSession(process).open(), cfg)
    return out


if __name__ == "__main__":
    raw = json.loads(sys.argv[1])
    order = raw.pop("order", ["stock", "fixed"])
    result = asyncio.run(main(Config(**raw), order))
    sys.stdout.write("\n" + json.dumps(result) + "\n")
