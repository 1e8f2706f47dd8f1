"""Start the real ASGI application in a server process for tests that need a socket.

Used for what an in-process transport can't show: a client that really
disconnects, the browser, runserver's streaming, several processes at once.

Each server gets a database of its own: a fresh SQLite file, or, when the
suite runs on PostgreSQL (``DATABASE_URL=postgres://…``), a fresh database on
that server, dropped afterwards. Servers that should share one (several
processes of one deployment) are given the same ``database_url``. With
``REDIS_URL`` set, servers on one database also share a Redis key prefix.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

PROJECT = Path(__file__).resolve().parent.parent


def on_postgres() -> bool:
    """Whether the suite runs on PostgreSQL (``DATABASE_URL`` in the environment)."""
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@dataclass(frozen=True)
class LiveServer:
    """A running server: its base URL, its database's URL, its environment and its process id."""

    url: str
    database_url: str
    env: dict[str, str]
    pid: int = 0

    def query(self, sql: str, *args) -> list[tuple]:
        """Rows of ``sql`` (``%s`` placeholders) run on the server's database."""
        return query(self.database_url, sql, *args)


def set_json_key(database_url: str) -> str:
    """The SQL expression that sets ``data``'s top-level key ``status`` to a JSON parameter, per database."""
    if database_url.startswith("sqlite:///"):
        return "json_set(data, '$.status', json(%s))"
    return "jsonb_set(data, '{status}', %s::jsonb)"


def query(database_url: str, sql: str, *args) -> list[tuple]:
    """Rows of ``sql`` (``%s`` placeholders) on a SQLite or PostgreSQL database URL, committed.

    JSON columns come back as text on SQLite and decoded on PostgreSQL (``jsonb``).
    """
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn, conn:
            return conn.execute(sql.replace("%s", "?"), args).fetchall()
    import psycopg

    with psycopg.connect(database_url) as conn:
        cursor = conn.execute(sql, args)
        return cursor.fetchall() if cursor.description else []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def live_database(tmp_path: Path) -> Iterator[str]:
    """A new, migrated database for server processes: yields its ``DATABASE_URL``."""
    if not on_postgres():
        url = f"sqlite:///{tmp_path / f'live-{uuid.uuid4().hex[:8]}.sqlite3'}"
        _migrate(url)
        yield url
        return
    import psycopg

    base = urlsplit(os.environ["DATABASE_URL"])
    name = f"live_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(base._replace(path=f"/{name}"))
    try:
        _migrate(url)
        yield url
    finally:
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(database_url: str) -> None:
    env = server_env(database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=PROJECT, env=env, check=True)


def server_env(database_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a server process on ``database_url`` (echo model by default)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DEBUG": "1",
            "DATABASE_URL": database_url,
            "REDIS_PREFIX": f"live-{uuid.uuid5(uuid.NAMESPACE_URL, database_url).hex[:12]}",
            "CHATKIT_MODEL": "echo",
            "PYTHONUNBUFFERED": "1",
            # Every browser page comes from 127.0.0.1: tests that want limits set them.
            "CHATKIT_TURNS_PER_MINUTE": "0",
            "CHATKIT_THREADS_PER_HOUR": "0",
            "CHATKIT_CONCURRENT_STREAMS": "0",
            "CHATKIT_NEW_OWNERS_PER_HOUR": "0",
        }
    )
    env.update(overrides)
    return env


@contextlib.contextmanager
def live_server(
    tmp_path: Path, *, server: str = "uvicorn", database_url: str | None = None, **overrides: str
) -> Iterator[LiveServer]:
    """Start ``server`` ("uvicorn", "daphne" or "runserver") and yield it.

    On ``database_url`` (already migrated) when given, else on a fresh
    database of its own. Raises ``RuntimeError`` if the server doesn't answer
    within 90 seconds. Servers that must share a database (several
    processes, a restart after a kill) get one ``database_url`` from
    :func:`live_database`.
    """
    with contextlib.ExitStack() as stack:
        if database_url is None:
            database_url = stack.enter_context(live_database(tmp_path))
        yield stack.enter_context(_serve(tmp_path, server, database_url, overrides))


@contextlib.contextmanager
def _serve(tmp_path: Path, server: str, database_url: str, overrides: dict[str, str]) -> Iterator[LiveServer]:
    # Uploads stay in the test's own folder.
    env = server_env(database_url, **{"MEDIA_ROOT": str(tmp_path / "media"), **overrides})
    port = free_port()
    commands = {
        "uvicorn": [
            sys.executable,
            "-m",
            "uvicorn",
            "chatproject.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        "daphne": [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "chatproject.asgi:application"],
        "runserver": [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
    }
    log_path = tmp_path / f"{server}-{port}.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(commands[server], cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded CI machine can take most of a minute
        while True:
            try:
                httpx.get(url + "/admin/login/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log_text = log_path.read_text()[-2000:]
                    raise RuntimeError(f"{server} did not start: {log_text}") from None
                time.sleep(0.1)
        yield LiveServer(url=url, database_url=database_url, env=env, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
