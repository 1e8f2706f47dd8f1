"""Start the real ASGI application in a server process for tests that need a socket.

Used for what an in-process transport can't show: a client that really
disconnects, the browser, runserver's streaming.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LiveServer:
    """A running server: its base URL, the SQLite file it writes, and its process id."""

    url: str
    database: Path
    env: dict[str, str]
    pid: int = 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database: Path, **overrides: str) -> dict[str, str]:
    """The environment of a server process on its own SQLite database (echo model by default)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{database}",
            "MEDIA_ROOT": str(database.parent / "media"),  # uploads stay in the test's own folder
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
def live_server(tmp_path: Path, *, server: str = "uvicorn", **overrides: str) -> Iterator[LiveServer]:
    """Migrate a fresh database, start ``server`` ("uvicorn", "daphne" or "runserver"), yield it.

    The database is ``tmp_path / "live.sqlite3"``: a second server started on
    the same ``tmp_path`` (at once, or after the first was killed) shares it.
    Raises ``RuntimeError`` if the server doesn't answer within 90 seconds.
    """
    database = tmp_path / "live.sqlite3"
    env = server_env(database, **overrides)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=PROJECT, env=env, check=True)
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
        yield LiveServer(url=url, database=database, env=env, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
