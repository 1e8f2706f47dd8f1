"""The built-in client (CHATKIT_UI=builtin) against the real server and the echo model."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import shown_thread_id
from .stubs import block_chatkit_cdn

pytestmark = pytest.mark.browser

MESSAGE = "Streaming answers arrive word by word in the browser client"


def assistant(page):
    return page.get_by_test_id("message-assistant").last


def send(page, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")


def test_send_stream_reload_reopen_rename_delete(servers, page, artifacts):
    server = servers("builtin")
    block_chatkit_cdn(page)  # builtin mode must not need it
    page.goto(server.url + "/")
    expect(page.get_by_test_id("app")).to_have_attribute("data-ui", "builtin")
    expect(page.get_by_test_id("start-screen")).to_be_visible()

    # Shift+Enter is a new line, not a send.
    box = page.get_by_test_id("composer-input")
    box.fill("first line")
    box.press("Shift+Enter")
    expect(box).to_have_value("first line\n")
    expect(page.get_by_test_id("message-user")).to_have_count(0)

    # Record the first text seen while the answer streams, as the DOM changes: a
    # poll can miss a short stream on a busy machine; a MutationObserver can't.
    page.evaluate(
        """() => {
            window.__partial = null;
            new MutationObserver(() => {
                const el = [...document.querySelectorAll('[data-testid=message-assistant]')].pop();
                const t = el && el.dataset.streaming === 'true' ? el.innerText.trim() : '';
                if (t && window.__partial === null) window.__partial = t;
            }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
        }"""
    )
    send(page, MESSAGE)
    expect(page.get_by_test_id("message-user")).to_have_text(MESSAGE)

    # The answer streams: part of it is on screen while the stop button shows.
    expect(assistant(page)).to_have_attribute("data-streaming", "true")
    expect(page.get_by_test_id("stop-button")).to_be_visible()
    partial = page.wait_for_function("() => window.__partial").json_value()
    expect(assistant(page)).to_have_attribute("data-streaming", "false")
    final = assistant(page).inner_text().strip()
    assert final.startswith(MESSAGE), final
    assert partial != final and MESSAGE.startswith(partial), (partial, final)
    expect(page.get_by_test_id("send-button")).to_be_visible()

    # The thread is in the URL and in the history list.
    thread_id = shown_thread_id(page)
    expect(page.get_by_test_id("thread-view")).to_have_attribute("data-thread-id", thread_id)
    page.screenshot(path=str(artifacts / "browser-builtin-light.png"))

    # Reload: the URL reopens it; the list has it.
    page.reload()
    item = page.locator(f'[data-testid=thread-list-item][data-thread-id="{thread_id}"]')
    expect(item).to_be_visible()
    expect(assistant(page)).to_contain_text(MESSAGE)

    # Leave it, then reopen it from the list: history comes back.
    page.get_by_test_id("new-thread").click()
    expect(page.get_by_test_id("start-screen")).to_be_visible()
    expect(page).not_to_have_url(re.compile("thread="))
    item.click()
    expect(page.get_by_test_id("message-user")).to_have_text(MESSAGE)
    expect(assistant(page)).to_contain_text(MESSAGE)
    expect(page).to_have_url(re.compile(f"thread={thread_id}"))

    # Rename (Enter saves); it sticks across a reload.
    page.get_by_test_id("rename-thread").click()
    page.get_by_test_id("rename-input").fill("Renamed by the browser test")
    page.get_by_test_id("rename-input").press("Enter")
    expect(page.get_by_test_id("thread-title")).to_have_text("Renamed by the browser test")
    expect(item).to_contain_text("Renamed by the browser test")
    page.reload()
    expect(page.get_by_test_id("thread-title")).to_have_text("Renamed by the browser test")

    # Dark theme, kept across reloads.
    page.get_by_test_id("theme-toggle").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    page.reload()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    expect(assistant(page)).to_be_visible()
    page.screenshot(path=str(artifacts / "browser-builtin-dark.png"))

    # Delete (with a confirm step); gone from the list and after a reload.
    page.get_by_test_id("delete-thread").click()
    page.get_by_test_id("delete-confirm").click()
    expect(item).to_have_count(0)
    expect(page.get_by_test_id("start-screen")).to_be_visible()
    expect(page).not_to_have_url(re.compile("thread="))
    page.reload()
    expect(page.get_by_test_id("thread-list")).to_be_visible()
    expect(item).to_have_count(0)
    assert page.page_errors == []


def test_feedback_retry_and_stop(servers, page):
    server = servers("builtin")
    page.goto(server.url + "/")
    send(page, "Please answer with these exact words")
    expect(assistant(page)).to_have_attribute("data-streaming", "false")
    first_id = assistant(page).get_attribute("data-item-id")

    page.get_by_test_id("feedback-positive").click()
    expect(page.get_by_test_id("feedback-positive")).to_have_attribute("aria-pressed", "true")

    # Retry replaces the answer with a fresh one.
    page.get_by_test_id("retry-button").click()
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)
    expect(assistant(page)).to_have_attribute("data-streaming", "false")
    expect(assistant(page)).to_contain_text("Please answer with these exact words")
    assert assistant(page).get_attribute("data-item-id") != first_id

    # Stop cuts a long answer short.
    send(page, " ".join(f"word{i}" for i in range(60)))
    expect(page.get_by_test_id("stop-button")).to_be_visible()
    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("send-button")).to_be_visible()
    expect(page.get_by_test_id("error")).to_have_count(0)
    assert "word59" not in assistant(page).inner_text()
    assert page.page_errors == []


def test_long_thread_loads_earlier_messages(servers, page):
    server = servers("builtin")
    page.goto(server.url + "/")
    expect(page.get_by_test_id("thread-list")).to_be_visible()
    # 18 turns (36 items) straight through the protocol, as this page's owner.
    thread_id = page.evaluate(
        """async () => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const post = (body) => fetch('/chatkit', {method: 'POST', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}, body: JSON.stringify(body)});
            const input = (text) => ({content: [{type: 'input_text', text}], attachments: [], inference_options: {}});
            const first = await (await post({type: 'threads.create', params: {input: input('turn 0')}})).text();
            const id = JSON.parse(first.split('\\n\\n')[0].slice(6)).thread.id;
            for (let i = 1; i < 18; i++) {
                await (await post({type: 'threads.add_user_message', params: {thread_id: id, input: input('turn ' + i)}})).text();
            }
            return id;
        }"""
    )
    page.goto(f"{server.url}/?thread={thread_id}")
    users = page.get_by_test_id("message-user")
    expect(users.last).to_have_text("turn 17")
    shown = users.count()
    assert shown < 18
    page.get_by_test_id("load-earlier").click()
    expect(users.first).to_have_text("turn 0")
    expect(users).to_have_count(18)
    expect(page.get_by_test_id("load-earlier")).to_have_count(0)


def test_small_screen_layout(servers, page, artifacts):
    server = servers("builtin")
    page.set_viewport_size({"width": 390, "height": 760})
    page.goto(server.url + "/")
    expect(page.get_by_test_id("thread-list")).to_be_hidden()
    page.get_by_role("button", name="Show chats").click()
    expect(page.get_by_test_id("thread-list")).to_be_visible()
    page.screenshot(path=str(artifacts / "browser-builtin-mobile-menu.png"))
    page.get_by_test_id("new-thread").click()
    expect(page.get_by_test_id("thread-list")).to_be_hidden()
    page.screenshot(path=str(artifacts / "browser-builtin-mobile.png"))
