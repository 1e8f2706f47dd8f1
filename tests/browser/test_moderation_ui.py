"""A locked thread shows the moderator's reason in the built-in client (ChatKit's UI reads ``status.reason`` itself)."""

from __future__ import annotations


import pytest
from playwright.sync_api import expect

from tests.servers import set_json_key

pytestmark = pytest.mark.browser


def test_a_locked_thread_shows_its_reason_and_refuses_input(servers, page):
    server = servers("builtin")
    page.goto(server.url + "/")
    expect(page.get_by_test_id("thread-list")).to_be_visible()
    thread_id = page.evaluate(
        """async () => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const body = {type: 'threads.create', params: {input: {content: [{type: 'input_text', text: 'hello'}],
                attachments: [], inference_options: {}}}};
            const text = await (await fetch('/chatkit', {method: 'POST', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}, body: JSON.stringify(body)})).text();
            return JSON.parse(text.split('\\n\\n')[0].slice(6)).thread.id;
        }"""
    )
    # Lock it the way chat.moderation.set_status stores it (that process is the server's; this is its database).
    server.query(
        f"update chat_thread set status='locked', data={set_json_key(server.database_url)} where id=%s",
        '{"type": "locked", "reason": "Off-topic spam"}',
        thread_id,
    )
    page.goto(f"{server.url}/?thread={thread_id}")
    expect(page.get_by_test_id("thread-status")).to_contain_text("locked: Off-topic spam")
    expect(page.get_by_test_id("composer-input")).to_be_disabled()
