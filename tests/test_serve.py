"""``make serve`` (``scripts/serve``): collectstatic, migrate, uvicorn workers; a turn, static files, JSON logs."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers import user_input
from tests.servers import PROJECT, free_port, live_database, server_env


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if re.search(rf"^PPid:\s+{pid}$", status.read_text(), re.M):
                found.append(int(status.parent.name))
        except OSError:
            pass
    return found


def test_serve_answers_a_turn_with_workers_static_files_and_json_logs(tmp_path):
    port = free_port()
    with live_database(tmp_path) as database_url:
        env = server_env(
            database_url,
            DEBUG="0",
            SECRET_KEY="s" * 50,
            PY=sys.executable,
            PORT=str(port),
            WEB_CONCURRENCY="2",
            STATIC_ROOT=str(tmp_path / "static"),
            ALLOWED_HOSTS="127.0.0.1",
            LOG_LEVEL="INFO",
            HTTPS="0",  # plain HTTP on the loopback (the production default redirects to HTTPS)
        )
        env.pop("LOG_FORMAT", None)
        log_path = tmp_path / "serve.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(PROJECT / "scripts" / "serve")], cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                url = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 120
                while True:
                    try:
                        if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                    time.sleep(0.2)
                assert len(children(process.pid)) >= 2  # the workers (uvicorn's supervisor is their parent)

                with httpx.Client(base_url=url, timeout=30) as client:
                    page = client.get("/")
                    assert page.status_code == 200
                    script = re.search(r'src="(/static/[^"]+\.js)"', page.text).group(1)
                    assert re.search(r"\.[0-9a-f]{12}\.js$", script), script  # a hashed name (manifest storage)
                    asset = client.get(script)
                    assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
                    assert "immutable" in asset.headers.get("cache-control", "")

                    response = client.post(
                        "/chatkit",
                        content=json.dumps(
                            {"type": "threads.create", "params": {"input": user_input("served in production")}}
                        ),
                        headers={"Content-Type": "application/json", "X-CSRFToken": client.cookies["csrftoken"]},
                    )
                    assert response.status_code == 200 and "served in production" in response.text
                    request_id = response.headers["x-request-id"]
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()

    lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    assert entries and all({"time", "level", "logger", "message", "request_id"} <= set(e) for e in entries)
    turn = [e for e in entries if e["request_id"] == request_id]
    assert any(e["logger"] == "chat.request" and e["path"] == "/chatkit" and e["status"] == 200 for e in turn), turn
