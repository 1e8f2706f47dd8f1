"""Attachments in the built-in client: pick, drop, refuse in place, remove, send, reload, download.

Against the real server, with each upload strategy (two-phase, the default, and direct),
and the echo model, which answers with the text it was given: so the answer shows
what the model read.
"""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from tests.servers import live_server

from .stubs import block_chatkit_cdn

pytestmark = pytest.mark.browser

NOTES = b"Meeting notes: the code word is PERIWINKLE.\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

DROP = """([name, type, text]) => {
    const data = new DataTransfer();
    data.items.add(new File([text], name, {type}));
    const form = document.querySelector('[data-testid=composer-input]').closest('form');
    for (const kind of ['dragover', 'drop']) {
        form.dispatchEvent(new DragEvent(kind, {bubbles: true, cancelable: true, dataTransfer: data}));
    }
}"""


@pytest.fixture(scope="module")
def direct_server(tmp_path_factory, _browser_ready):
    with live_server(
        tmp_path_factory.mktemp("browser-direct"), CHATKIT_UI="builtin", CHATKIT_UPLOAD_STRATEGY="direct"
    ) as server:
        yield server


@pytest.mark.parametrize("strategy", ["two_phase", "direct"])
def test_attach_send_reload_and_download(request, servers, page, tmp_path, artifacts, strategy):
    server = servers("builtin") if strategy == "two_phase" else request.getfixturevalue("direct_server")
    uploads: list[str] = []
    page.on("request", lambda r: uploads.append(f"{r.method} {r.url}") if "/chatkit/attachments" in r.url else None)
    block_chatkit_cdn(page)
    page.goto(server.url + "/")
    expect(page.get_by_test_id("app")).to_have_attribute("data-ui", "builtin")
    chips = page.get_by_test_id("composer-attachment")

    # A file whose bytes aren't what its name says is refused in place, and can be removed.
    page.get_by_test_id("attach-input").set_input_files(
        [{"name": "evil.png", "mimeType": "image/png", "buffer": b"#!/bin/sh\necho gotcha\n"}]
    )
    expect(page.get_by_test_id("attachment-error")).to_contain_text("not image/png")
    page.get_by_role("button", name="Remove evil.png").click()
    expect(chips).to_have_count(0)

    # One file dropped on the composer, one picked: both upload and show.
    page.evaluate(DROP, ["notes.txt", "text/plain", NOTES.decode()])
    page.get_by_test_id("attach-input").set_input_files([{"name": "dot.png", "mimeType": "image/png", "buffer": PNG}])
    expect(chips).to_have_count(2)
    expect(page.locator("[data-testid=composer-attachment][data-status=ready]")).to_have_count(2)
    page.screenshot(path=str(artifacts / f"browser-builtin-attachments-composer-{strategy}.png"))
    # Two-phase: the bytes go to each attachment's own URL; direct: to the collection.
    posts = [u for u in uploads if u.startswith("POST ")]
    if strategy == "direct":
        assert posts and all(u.endswith("/chatkit/attachments") for u in posts), uploads
    else:
        assert posts and all("/chatkit/attachments/atc_" in u for u in posts), uploads

    page.get_by_test_id("composer-input").fill("What is in these files?")
    page.get_by_test_id("send-button").click()
    expect(chips).to_have_count(0)
    message = page.get_by_test_id("message-user")
    expect(message.get_by_test_id("attachment-file")).to_have_text("txtnotes.txt")
    expect(message.get_by_role("img", name="dot.png")).to_be_visible()
    # The echo model repeats what the model was given: the file's text and the image's name.
    answer = page.get_by_test_id("message-assistant").last
    expect(answer).to_have_attribute("data-streaming", "false", timeout=30_000)
    expect(answer).to_contain_text("PERIWINKLE")
    expect(answer).to_contain_text("dot.png")

    page.reload()
    message = page.get_by_test_id("message-user")
    expect(message.get_by_test_id("attachment-file")).to_be_visible()
    image = message.get_by_role("img", name="dot.png")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 1", arg=image.element_handle())
    page.screenshot(path=str(artifacts / f"browser-builtin-attachments-thread-{strategy}.png"))

    with page.expect_download() as info:
        message.get_by_test_id("attachment-file").click()
    download = info.value
    assert download.suggested_filename == "notes.txt"
    saved = tmp_path / "notes.txt"
    download.save_as(saved)
    assert saved.read_bytes() == NOTES
    assert page.page_errors == []  # type: ignore[attr-defined]
