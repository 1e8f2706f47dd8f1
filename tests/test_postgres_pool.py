"""On PostgreSQL: more concurrent streams than the pool has connections all finish.

A stream hands its pooled connection back while its model writes
(:mod:`chat.db`), so a process with ``DATABASE_POOL_MAX=2`` answers six slow
turns at once instead of timing out on the pool. Skipped on SQLite (no pool).
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.helpers import sse_events, user_input
from tests.servers import live_server, on_postgres

pytestmark = pytest.mark.skipif(not on_postgres(), reason="PostgreSQL only (the connection pool)")


async def test_six_slow_streams_share_a_pool_of_two(tmp_path):
    words = " ".join(f"w{i}" for i in range(20))  # 20 words x 0.2 s: each stream is longer than the pool timeout
    with live_server(
        tmp_path, DATABASE_POOL_MIN="1", DATABASE_POOL_MAX="2", DATABASE_POOL_TIMEOUT="3", CHATKIT_ECHO_DELAY="0.2"
    ) as live:
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as http:
            await http.get("/")
            token = http.cookies["csrftoken"]

            async def turn(n: int) -> list[dict]:
                response = await http.post(
                    "/chatkit",
                    content=json.dumps({"type": "threads.create", "params": {"input": user_input(f"{n} {words}")}}),
                    headers={"Content-Type": "application/json", "X-CSRFToken": token},
                )
                assert response.status_code == 200
                return sse_events(response.text)

            results = await asyncio.gather(*(turn(n) for n in range(6)))
        stored = live.query("select count(*) from chat_item where type = 'assistant_message'")
    for n, events in enumerate(results):
        assert not [e for e in events if e["type"] == "error"], events
        answer = [e for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"]
        assert answer and answer[0]["item"]["content"][0]["text"].startswith(f"{n} w0"), events
    assert stored == [(6,)]
