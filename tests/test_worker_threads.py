"""Open streams cost no thread, and database connections don't outlive what holds them (chat/workers.py).

Through a real uvicorn process (tests/servers.py): 50 answers stream at once
(the echo model, slowed down), and the server's own thread count and its
database connections are read from outside while they are open, after half of
them are cut by their clients, and after the rest end: on SQLite the
process's file handles on the database (psutil), on PostgreSQL
``pg_stat_activity`` (the pool keeps idle connections; none may stay busy).
Not timed: the numbers are counts.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from tests.helpers import CSRF_TOKEN, user_input
from tests.servers import live_server, on_postgres

STREAMS = 50
WORKERS = 4
# The event loop's thread, the worker threads, and the few that uvicorn and asyncio keep;
# Django's default would be one more per open stream.
MAX_THREADS = 16


def db_connections(server) -> int:
    """How many database connections the server process holds (busy ones only, on PostgreSQL's pool)."""
    if server.database_url.startswith("sqlite:///"):
        path = server.database_url.removeprefix("sqlite:///")
        return sum(1 for f in psutil.Process(server.pid).open_files() if f.path == path)
    name = urlsplit(server.database_url).path.lstrip("/")
    sql = "select count(*) from pg_stat_activity where datname = %s and pid <> pg_backend_pid() and state <> 'idle'"
    return server.query(sql, name)[0][0]


def open_connections(server) -> int:
    """Every database connection the server process holds, busy or not."""
    if server.database_url.startswith("sqlite:///"):
        return db_connections(server)
    name = urlsplit(server.database_url).path.lstrip("/")
    return server.query("select count(*) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()", name)[
        0
    ][0]


def claims(server) -> list:
    return server.query("select id from chat_thread where turn_id is not null")


async def open_streams(url: str, n: int, words: int):
    """``n`` owners, each with a thread, each streaming an answer of ``words`` words; yields when all are open."""
    clients = []
    for _ in range(n):
        client = httpx.AsyncClient(base_url=url, timeout=60, headers={"X-CSRFToken": CSRF_TOKEN})
        client.cookies.set("csrftoken", CSRF_TOKEN)
        clients.append(client)

    async def create(client):
        body = json.dumps({"type": "threads.create", "params": {"input": user_input("hi")}})
        r = await client.post("/chatkit", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text[:300]
        return json.loads(r.text.split("\n\n")[0][len("data: ") :])["thread"]["id"]

    thread_ids = await asyncio.gather(*(create(c) for c in clients))
    text = " ".join(f"w{i}" for i in range(words))
    streams = []
    for client, thread_id in zip(clients, thread_ids):
        body = json.dumps(
            {"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input(text)}}
        )
        request = client.build_request("POST", "/chatkit", content=body, headers={"Content-Type": "application/json"})
        streams.append(await client.send(request, stream=True))
    readers = []
    for response in streams:  # the first event of each: every stream is open and answering
        assert response.status_code == 200
        reader = response.aiter_bytes()
        await reader.__anext__()
        readers.append(reader)
    return clients, streams, readers


async def sample_threads(pid: int, seconds: float) -> int:
    peak = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        peak = max(peak, psutil.Process(pid).num_threads())
        await asyncio.sleep(0.05)
    return peak


async def wait_for(predicate, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("conn_max_age", ["300", "0"], ids=["persistent", "per-request"])
def test_fifty_open_streams_hold_no_thread_and_give_connections_back(tmp_path, conn_max_age):
    if on_postgres() and conn_max_age != "0":
        pytest.skip("PostgreSQL's connections come from the pool, which needs CONN_MAX_AGE = 0")
    env = {"CHATKIT_ECHO_DELAY": "0.1", "CHATKIT_WORKER_THREADS": str(WORKERS), "CONN_MAX_AGE": conn_max_age}
    # The pool may keep idle connections (at least its min_size); none is held by a stream.
    most = WORKERS + 2 if on_postgres() else WORKERS
    with live_server(tmp_path, **env) as server:

        async def scenario():
            clients, streams, readers = await open_streams(server.url, STREAMS, words=60)
            try:
                # All 50 open, each with ~5 s of answer left.
                threads = await sample_threads(server.pid, 1.0)
                assert threads <= MAX_THREADS, f"{threads} threads with {STREAMS} streams open"
                assert open_connections(server) <= most
                # Half the clients leave mid-answer; the others read to the end.
                for response in streams[::2]:
                    await response.aclose()
                for reader in readers[1::2]:
                    async for _ in reader:
                        pass
            finally:
                for client in clients:
                    await client.aclose()
            await wait_for(lambda: claims(server) == [])  # cut or done, every turn let go
            if conn_max_age == "0":  # closed, or back in the pool, when each request ends
                await wait_for(lambda: db_connections(server) == 0)
            else:  # kept by the workers, never one per stream
                assert open_connections(server) <= WORKERS
            return psutil.Process(server.pid).num_threads()

        after = asyncio.run(scenario())
        assert after <= MAX_THREADS
