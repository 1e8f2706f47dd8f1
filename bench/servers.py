"""Servers under test as subprocesses on free loopback ports, each with its own temp SQLite DB."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"

BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "chatproject.settings",
    "CHATKIT_MODEL": "echo",
    "CHATKIT_ECHO_DELAY": "0",
    "DEBUG": "0",  # as production runs it (DEBUG=1 also logs every query)
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
    "HTTPS": "0",  # plain HTTP on loopback: no redirect, no Secure cookies
    # One load generator on one address: the limits would refuse it.
    "CHATKIT_TURNS_PER_MINUTE": "0",
    "CHATKIT_THREADS_PER_HOUR": "0",
    "CHATKIT_CONCURRENT_STREAMS": "0",
    "CHATKIT_NEW_OWNERS_PER_HOUR": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "LOG_LEVEL": "WARNING",
    "OPENAI_API_KEY": "",
    "PYTHONUNBUFFERED": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def env_with(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # Compiled bytecode is cached (__pycache__ is git-ignored): a server then starts in seconds.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(BASE_ENV)
    env.update(extra)
    return env


_TEMPLATE_DB: str | None = None


def migrated_copy(db_path: str) -> None:
    """A migrated DB at ``db_path``: migrate once per run, then copy the file."""
    global _TEMPLATE_DB
    if _TEMPLATE_DB is None or not os.path.exists(_TEMPLATE_DB):
        fd, path = tempfile.mkstemp(prefix="bench-template-", suffix=".sqlite3")
        os.close(fd)
        os.unlink(path)
        migrate(path)
        _TEMPLATE_DB = path
        atexit.register(lambda: os.path.exists(path) and os.unlink(path))
    shutil.copyfile(_TEMPLATE_DB, db_path)


def migrate(db_path: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env_with(DATABASE_URL=f"sqlite:///{db_path}"),
        check=True,
    )


@dataclass
class Server:
    name: str
    kind: str  # "django-daphne" | "django-uvicorn" | "fastapi-memory" | "fastapi-sqlite" | "null"
    stock: bool = False
    delay: float = 0.0
    app: str = "chatproject.asgi:application"
    port: int = 0
    proc: subprocess.Popen | None = None
    tmp: tempfile.TemporaryDirectory | None = None
    db_path: str = ""
    log: Path | None = None
    extra_env: dict = field(default_factory=dict)

    def start(self, db_path: str | None = None, wait: bool = True) -> Server:
        self.tmp = tempfile.TemporaryDirectory(prefix=f"bench-{self.kind}-")
        self.port = free_port()
        self.db_path = db_path or os.path.join(self.tmp.name, "db.sqlite3")
        env = env_with(
            DATABASE_URL=f"sqlite:///{self.db_path}",
            CHATKIT_ECHO_DELAY=str(self.delay),
            **self.extra_env,
        )
        if self.kind != "null" and db_path is None:
            # FastAPI too: ChatServer reads the enabled widget templates from Django's DB every turn.
            migrated_copy(self.db_path)
        if self.kind == "django-daphne":
            cmd = [str(VENV_BIN / "daphne"), "-b", HOST, "-p", str(self.port), self.app]
        elif self.kind == "django-uvicorn":
            cmd = [
                str(VENV_BIN / "uvicorn"),
                self.app,
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--no-access-log",
                "--lifespan",
                "off",
                "--log-level",
                "warning",
            ]
        elif self.kind.startswith("fastapi"):
            env.update(
                BENCH_APP="fastapi",
                BENCH_STORE=self.kind.split("-")[1],
                BENCH_STOCK="1" if self.stock else "0",
                BENCH_SQLITE_PATH=os.path.join(self.tmp.name, "aio.sqlite3"),
            )
            cmd = [
                str(VENV_BIN / "uvicorn"),
                "bench.apps:fastapi_application",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--no-access-log",
                "--log-level",
                "warning",
            ]
        elif self.kind == "null":
            cmd = [sys.executable, "-m", "bench.nullserver", str(self.port)]
        else:
            raise ValueError(self.kind)
        self.log = Path(self.tmp.name) / "server.log"
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen within {timeout}s")

    def rss(self) -> int:
        p = psutil.Process(self.proc.pid)
        return p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))

    def threads(self) -> int:
        p = psutil.Process(self.proc.pid)
        return p.num_threads() + sum(c.num_threads() for c in p.children(recursive=True))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None

    def log_tail(self, n: int = 1500) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except Exception:
            return ""
