"""Live threads in the browser: a thread open in two tabs shows the other tab's answer streaming in.

Two tabs of one browser context are one owner (shared cookies); a second
context is another owner, whose socket is refused and gets nothing.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from .helpers import shown_thread_id
from .stubs import block_chatkit_cdn

pytestmark = pytest.mark.browser

QUESTION = "Both tabs should watch this answer being written word by word"


def frames_of(page) -> list[str]:
    """The live socket's received frames, collected as they come."""
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    return frames


def wait_for(page, condition, timeout: float = 15.0, seen=None) -> None:
    # Playwright's sync API delivers events only inside its own calls: wait through it.
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; frames: {seen}"
        page.wait_for_timeout(50)


def send(page, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")


def test_a_second_tab_sees_the_answer_stream_in_and_another_owner_sees_nothing(servers, browser, artifacts):
    server = servers("builtin")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    writer, watcher = context.new_page(), context.new_page()
    for tab in (writer, watcher):
        block_chatkit_cdn(tab)

    writer.goto(server.url + "/")
    send(writer, "Hello")
    expect(writer.get_by_test_id("message-assistant").last).to_have_attribute("data-streaming", "false")
    thread_id = shown_thread_id(writer)
    thread_url = writer.url

    watched = frames_of(watcher)
    watcher.goto(thread_url)
    expect(watcher.get_by_test_id("message-assistant")).to_have_count(1)
    wait_for(watcher, lambda: any('"subscribed"' in f and thread_id in f for f in watched), seen=watched)

    # Another owner asks for the thread over its own socket, from its own page (its own cookies).
    stranger_context = browser.new_context()
    stranger = stranger_context.new_page()
    block_chatkit_cdn(stranger)
    stranger.goto(server.url + "/")
    stranger.evaluate(
        """(id) => new Promise((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/chatkit/live`);
            window.strangerFrames = [];
            ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", thread_id: id }));
            ws.onmessage = (m) => { window.strangerFrames.push(m.data); resolve(); };
        })""",
        thread_id,
    )

    send(writer, QUESTION)
    # The watcher shows the question, then part of the answer, then all of it.
    expect(watcher.get_by_test_id("message-user").last).to_have_text(QUESTION)
    partial = watcher.wait_for_function(
        """(question) => {
            const all = [...document.querySelectorAll('[data-testid=message-assistant]')];
            const t = all.length === 2 ? all[1].innerText.trim() : '';
            return t.length > 0 && t.length < question.length ? t : null;
        }""",
        arg=QUESTION,
    ).json_value()
    expect(writer.get_by_test_id("message-assistant").last).to_have_attribute("data-streaming", "false")
    final = writer.get_by_test_id("message-assistant").last.inner_text().strip()
    expect(watcher.get_by_test_id("message-assistant").last).to_have_text(final)
    assert final.startswith(QUESTION) and QUESTION.startswith(partial), (partial, final)
    watcher.screenshot(path=str(artifacts / "browser-live-watcher.png"))

    # The other owner was refused and got nothing of the thread.
    (refusal,) = stranger.evaluate("window.strangerFrames")
    assert '"not_found"' in refusal, refusal
    expect(stranger.get_by_text(QUESTION)).to_have_count(0)
    stranger_context.close()
    context.close()


LONG = "Keep writing this answer while I look at another thread " + " ".join(f"w{i}" for i in range(60))


def test_switching_threads_keeps_the_answer_being_written(servers, browser, artifacts):
    """Issue 14: opening another thread mid-answer doesn't stop it; coming back shows it (live while it runs)."""
    server = servers("builtin")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    page = context.new_page()
    block_chatkit_cdn(page)
    page.goto(server.url + "/")
    answers = page.get_by_test_id("message-assistant")

    send(page, "First thread")
    expect(answers.last).to_have_attribute("data-streaming", "false")
    first_id = shown_thread_id(page)
    page.get_by_test_id("new-thread").click()
    send(page, LONG)
    expect(answers.last).to_have_attribute("data-streaming", "true")
    wait_for(page, lambda: len(answers.last.inner_text().split()) >= 5)
    second_id = shown_thread_id(page, other_than=first_id)

    # Away to the first thread while the second's answer is written (0.05 s a word: about 4 s in all).
    page.get_by_test_id("thread-list-item").filter(has_text="First thread").click()
    expect(page.get_by_test_id("message-user")).to_have_text(["First thread"])
    page.wait_for_timeout(500)

    # Back while it still runs: it is shown, still streaming, and grows to the whole answer.
    page.get_by_test_id("thread-list-item").filter(has_text="Keep writing").click()
    shown = answers.last
    expect(shown).to_have_attribute("data-streaming", "true")
    before = len(shown.inner_text().split())
    expect(shown).to_have_attribute("data-streaming", "false")
    expect(shown).to_have_text(LONG)
    assert before < len(LONG.split()), before
    expect(page.get_by_test_id("cut-off")).to_have_count(0)

    # Away again with a new answer on its way, and back only after it was finished unseen.
    send(page, LONG + " again")
    wait_for(page, lambda: answers.count() == 2 and len(answers.last.inner_text().split()) >= 3)
    page.get_by_test_id("thread-list-item").filter(has_text="First thread").click()
    expect(page.get_by_test_id("message-user")).to_have_text(["First thread"])

    def saved_answers() -> list[str]:
        rows = server.query(
            "select text from chat_item where thread_id = %s and type = 'assistant_message' order by seq", second_id
        )
        return [text for (text,) in rows]

    wait_for(page, lambda: saved_answers() == [LONG, LONG + " again"], timeout=30, seen=saved_answers)
    page.get_by_test_id("thread-list-item").filter(has_text="Keep writing").click()
    expect(answers).to_have_count(2)
    expect(answers.last).to_have_text(LONG + " again")
    expect(page.get_by_test_id("cut-off")).to_have_count(0)
    page.screenshot(path=str(artifacts / "browser-switch-keeps-answer.png"))
    context.close()
