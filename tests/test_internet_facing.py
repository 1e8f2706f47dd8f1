"""The product as the internet meets it: a real uvicorn process, raw sockets, production settings.

Early refusals (chat/asgi.py) can only be shown on a socket: the point is that
the answer comes before the client has sent the body.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.helpers import CSRF_TOKEN, user_input
from tests.servers import PROJECT, live_server

LIMIT = 1_048_576  # CHATKIT_MAX_REQUEST_BYTES's default


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(
        tmp_path_factory.mktemp("internet"),
        CHATKIT_BODY_TIMEOUT="1",
        CHATKIT_CONCURRENT_STREAMS="1",
        CHATKIT_ECHO_DELAY="0.05",
    ) as live:
        yield live


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def read_response(sock: socket.socket, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """Read one whole HTTP/1.1 response (with Content-Length) from ``sock``."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def request_head(path: str, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("path", ["/chatkit", "/admin/login/"])
def test_a_huge_content_length_is_refused_before_the_body_is_sent(server, path):
    with connect(server.url) as sock:
        started = time.monotonic()
        sock.sendall(request_head(path, Content_Length="200000000"))  # 200 MB announced, not one byte sent
        status, headers, body = read_response(sock)
        assert status == 413, body
        assert time.monotonic() - started < 2
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["error"]["code"] == "request_too_large"


def test_a_chunked_body_is_cut_at_the_limit(server):
    with connect(server.url) as sock:
        sock.sendall(request_head("/chatkit", Transfer_Encoding="chunked"))
        piece = b"x" * 65536
        sent = 0
        try:
            while sent <= 4 * LIMIT:  # far more than the limit, if the server kept reading
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
        except OSError:
            pass  # the server answered and closed: it stopped reading
        status, _, body = read_response(sock)
    assert status == 413, body
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_a_stalled_body_times_out(server):
    with connect(server.url) as sock:
        sock.sendall(request_head("/chatkit", Content_Length="100") + b'{"type": ')
        started = time.monotonic()
        status, _, body = read_response(sock, timeout=10)
    assert status == 408, body
    assert 0.9 < time.monotonic() - started < 5
    assert json.loads(body)["error"]["code"] == "request_timeout"


def test_a_cut_connection_gives_its_stream_slot_back(server):
    """CHATKIT_CONCURRENT_STREAMS=1: a second stream is refused, and allowed once the first is cut."""
    with httpx.Client(base_url=server.url, timeout=30, headers={"X-CSRFToken": CSRF_TOKEN}) as client:
        client.cookies.set("csrftoken", CSRF_TOKEN)
        assert client.get("/").status_code == 200  # the owner cookie
        long_words = " ".join(f"w{i}" for i in range(100))

        def body(text):
            return json.dumps({"type": "threads.create", "params": {"input": user_input(text)}})

        headers = {"Content-Type": "application/json"}
        with client.stream("POST", "/chatkit", content=body(long_words), headers=headers) as first:
            assert first.status_code == 200
            lines = first.iter_lines()  # held: dropping it would close the connection
            next(lines)  # the answer is streaming
            refused = client.post("/chatkit", content=body("second"), headers=headers)
            assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
            assert int(refused.headers["Retry-After"]) >= 1
        # Leaving the block closed the connection mid-answer.
        deadline = time.monotonic() + 5
        while True:
            again = client.post("/chatkit", content=body("third"), headers=headers)
            if again.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert again.status_code == 200, again.text


def test_production_settings_send_hsts_and_secure_cookies(tmp_path):
    """DEBUG off (after collectstatic, as the README says): HTTPS redirect, HSTS, Secure HttpOnly cookies."""
    static_root = tmp_path / "static"
    env_overrides = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "STATIC_ROOT": str(static_root),
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
        "CHATKIT_UI": "builtin",
    }
    from tests.servers import server_env

    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=PROJECT,
        env=server_env(f"sqlite:///{tmp_path / 'unused.sqlite3'}", **env_overrides),
        check=True,
        timeout=300,
    )
    with live_server(tmp_path, **env_overrides) as live:
        plain = httpx.get(live.url + "/", headers={"X-Forwarded-Proto": "http"})
        assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
        page = httpx.get(live.url + "/", headers={"X-Forwarded-Proto": "https"})
        assert page.status_code == 200, page.text[:500]
        assert page.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
        assert "content-security-policy" in page.headers
        assert page.headers["x-frame-options"] == "DENY"
        cookies = {c.split("=")[0]: c for c in page.headers.get_list("set-cookie")}
        assert "Secure" in cookies["csrftoken"]
        assert "Secure" in cookies["chatkit_owner"] and "HttpOnly" in cookies["chatkit_owner"]
        admin = httpx.get(live.url + "/admin/login/", headers={"X-Forwarded-Proto": "https"})
        assert admin.status_code == 200
