"""What the page's safe defaults mean in a real browser: no remote images, rate limits in words."""

from __future__ import annotations

import http.server
import threading

import pytest
from playwright.sync_api import expect

from tests.servers import free_port, live_server

from .stubs import block_chatkit_cdn

pytestmark = pytest.mark.browser

TURNS_PER_MINUTE = 3


@pytest.fixture(scope="module")
def limited(tmp_path_factory, _browser_ready):
    """The built-in client with a small turn limit (the browser is one address: 127.0.0.1)."""
    with live_server(
        tmp_path_factory.mktemp("safe-defaults"), CHATKIT_UI="builtin", CHATKIT_TURNS_PER_MINUTE=str(TURNS_PER_MINUTE)
    ) as live:
        yield live


@pytest.fixture
def image_host():
    """Another origin that counts the requests it gets (an attacker's image server)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.end_headers()
            self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def send(page, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")


def test_a_remote_image_in_an_answer_is_not_fetched(limited, page, image_host):
    origin, hits = image_host
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    block_chatkit_cdn(page)
    page.goto(limited.url + "/")
    # The echo model repeats it: an answer with a Markdown image pointing elsewhere.
    send(page, f"![tracking pixel]({origin}/pixel.gif?who=visitor)")
    answer = page.get_by_test_id("message-assistant").last
    expect(answer).to_have_attribute("data-streaming", "false")
    image = answer.locator("img")
    expect(image).to_have_count(1)  # the client rendered it: only the policy stops the request
    assert image.get_attribute("src").startswith(origin)
    page.wait_for_timeout(500)
    assert hits == []
    assert any("img-src" in v for v in violations), violations


def test_a_rate_limited_message_says_so_and_when(limited, page):
    block_chatkit_cdn(page)
    page.goto(limited.url + "/")
    error = page.get_by_test_id("error")
    for i in range(TURNS_PER_MINUTE + 1):  # the address may have used some turns already
        send(page, f"message {i}")
        page.wait_for_timeout(300)
        if error.count():
            break
        expect(page.get_by_test_id("message-assistant").last).to_have_attribute("data-streaming", "false")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("data-code", "rate_limited")
    expect(error).to_contain_text(f"Too many messages: at most {TURNS_PER_MINUTE} a minute. Try again in")
