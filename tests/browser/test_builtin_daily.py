"""The built-in client as a daily user meets it: thread states, links, text, models, polish, accessibility.

Real server (uvicorn, echo model, its own SQLite file); where the echo model
can't say it (a fenced code block, widgets), ``/chatkit`` is scripted.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from .helpers import assistant, create_thread, send, serious_axe_violations, set_status, shown_thread_id, sql
from .test_builtin_protocol import THREAD, assistant_item, sse, user_item

pytestmark = pytest.mark.browser

MISSING = "This chat doesn't exist or isn't yours"

# Two models to pick from: the echo, and an echo that starts its answers with "second:".
MODELS = [{"id": "echo", "label": "Echo"}, {"id": "twin:second", "label": "Second echo"}]
TWO_MODELS = {
    "CHATKIT_MODELS": json.dumps(MODELS),
    "CHATKIT_MODEL_PROVIDERS": json.dumps({"twin": "tests.browser.helpers.TwinEchoProvider"}),
}


def finished(page, answers: int = 1) -> None:
    """Wait for the `answers`-th answer to finish streaming."""
    expect(page.get_by_test_id("message-assistant")).to_have_count(answers)
    expect(assistant(page)).to_have_attribute("data-streaming", "false")


# --- Thread states -------------------------------------------------------------


def test_a_locked_thread_says_why_and_hides_retry(servers, page, artifacts):
    server = servers("builtin")
    page.goto(server.url + "/")
    send(page, "This thread gets locked")
    finished(page)
    thread_id = shown_thread_id(page)
    set_status(server, thread_id, "locked", "Locked by a moderator")

    page.reload()
    banner = page.get_by_test_id("thread-status")
    expect(banner).to_contain_text("This chat is locked: Locked by a moderator")
    expect(banner).to_have_attribute("data-status", "locked")
    box = page.get_by_test_id("composer-input")
    expect(box).to_be_disabled()
    expect(box).to_have_attribute("placeholder", re.compile("locked"))
    expect(box).to_have_attribute("aria-describedby", "thread-status-banner")
    # The answer stays, with its copy and feedback buttons, but no Retry to make it vanish.
    expect(assistant(page)).to_contain_text("This thread gets locked")
    expect(page.get_by_test_id("item-actions")).to_be_visible()
    expect(page.get_by_test_id("retry-button")).to_have_count(0)
    page.screenshot(path=str(artifacts / "browser-builtin-locked.png"))
    # Feedback isn't a turn: it still works here.
    page.get_by_test_id("feedback-positive").click()
    expect(page.get_by_test_id("feedback-positive")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("error")).to_have_count(0)

    set_status(server, thread_id, "closed")
    page.reload()
    expect(page.get_by_test_id("thread-status")).to_contain_text("This chat is closed.")
    expect(page.get_by_test_id("composer-input")).to_have_attribute("placeholder", re.compile("closed"))

    set_status(server, thread_id, "active")
    page.reload()
    expect(assistant(page)).to_be_visible()
    expect(page.get_by_test_id("thread-status")).to_have_count(0)
    expect(page.get_by_test_id("composer-input")).to_be_enabled()
    expect(page.get_by_test_id("retry-button")).to_be_visible()
    assert page.page_errors == []


# --- Feedback that stays -------------------------------------------------------


def test_feedback_shows_after_a_reload(servers, page):
    server = servers("builtin")
    page.goto(server.url + "/")
    send(page, "Rate this answer")
    finished(page)
    page.get_by_test_id("feedback-negative").click()
    expect(page.get_by_test_id("feedback-negative")).to_have_attribute("aria-pressed", "true")

    page.reload()
    expect(assistant(page)).to_contain_text("Rate this answer")
    expect(page.get_by_test_id("feedback-negative")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("feedback-positive")).to_have_attribute("aria-pressed", "false")

    # Changing one's mind sticks as well (the latest kind wins on the server).
    page.get_by_test_id("feedback-positive").click()
    expect(page.get_by_test_id("feedback-positive")).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.get_by_test_id("feedback-positive")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("feedback-negative")).to_have_attribute("aria-pressed", "false")


# --- Links ---------------------------------------------------------------------


def test_a_foreign_or_dead_link_says_so_at_once_and_leaves_the_url(servers, browser, page):
    server = servers("builtin")
    owner = browser.new_context()
    try:
        theirs = owner.new_page()
        theirs.goto(server.url + "/")
        thread_id = create_thread(theirs, "Private to its owner")
    finally:
        owner.close()

    for link in (thread_id, "thr_deleted_or_never_was"):
        page.goto(f"{server.url}/?thread={link}")
        notice = page.get_by_test_id("link-notice")
        expect(notice).to_contain_text(MISSING, timeout=1500)
        assert link not in notice.inner_text()
        expect(page).not_to_have_url(re.compile("thread="))
        expect(page.get_by_test_id("start-screen")).to_be_visible()
        expect(page.get_by_test_id("error")).to_have_count(0)
        assert link not in page.locator("body").inner_text()
    page.get_by_test_id("link-notice").get_by_role("button", name="Dismiss").click()
    expect(page.get_by_test_id("link-notice")).to_have_count(0)


def test_a_dead_link_in_auto_mode_is_explained_before_the_ui_is_chosen(servers, page):
    server = servers("auto")
    # The CDN never answers: the page waits its timeout before the built-in client.
    page.route("https://cdn.platform.openai.com/**", lambda route: None)
    page.goto(server.url + "/?thread=thr_not_here")
    expect(page.get_by_test_id("ui-loading")).to_be_visible()
    expect(page.get_by_test_id("link-notice")).to_contain_text(MISSING)
    expect(page).not_to_have_url(re.compile("thread="))


def test_a_thread_deleted_after_the_page_loaded_is_explained_too(servers, page):
    server = servers("builtin")
    page.goto(server.url + "/")
    thread_id = create_thread(page, "Soon gone")
    page.reload()
    item = page.locator(f'[data-testid=thread-list-item][data-thread-id="{thread_id}"]')
    expect(item).to_be_visible()
    sql(server, "DELETE FROM chat_item WHERE thread_id = %s", thread_id)
    sql(server, "DELETE FROM chat_thread WHERE id = %s", thread_id)
    item.click()
    expect(page.get_by_test_id("error")).to_have_text(re.compile(MISSING))
    assert thread_id not in page.get_by_test_id("error").inner_text()
    expect(page).not_to_have_url(re.compile("thread="))


# --- History while it loads ----------------------------------------------------


class HeldHistory:
    """Holds the page's first ``threads.list`` answer: the real server's, fetched when the page asked, delivered late.

    What a slow answer on a loaded machine does: it was read before the page's
    own changes, and arrives after them.
    """

    def __init__(self, page):
        self.page = page
        self.held: list = []
        page.route("**/chatkit", self._route)

    def _route(self, route):
        body = json.loads(route.request.post_data or "{}")
        if body.get("type") == "threads.list" and not self.held:
            self.held.append((route, route.fetch()))
            return
        route.fallback()

    def release(self) -> None:
        """Deliver the held answer and wait until the list has taken it."""
        route, response = self.held.pop()
        route.fulfill(response=response)
        expect(self.page.get_by_test_id("thread-list")).to_have_attribute("aria-busy", "false")


def test_a_late_history_answer_keeps_the_new_thread_and_its_title(servers, page):
    server = servers("builtin")
    history = HeldHistory(page)
    page.goto(server.url + "/")
    expect(page.get_by_test_id("thread-list")).to_have_attribute("aria-busy", "true")
    send(page, "Written while the history loads")
    finished(page)
    thread_id = page.url.split("thread=")[1]
    listed = page.get_by_test_id("thread-list-item").first
    expect(listed).to_have_attribute("data-thread-id", thread_id)
    expect(listed).to_contain_text("Written while the history loads")

    history.release()  # read before the thread existed
    expect(page.get_by_test_id("thread-list-item")).to_have_count(1)
    expect(listed).to_have_attribute("data-thread-id", thread_id)
    expect(listed).to_contain_text("Written while the history loads")
    assert page.page_errors == []


def test_a_late_history_answer_keeps_a_deleted_thread_deleted(servers, page):
    server = servers("builtin")
    page.goto(server.url + "/")
    kept = create_thread(page, "Kept")
    gone = create_thread(page, "Deleted while the history loads")
    history = HeldHistory(page)
    page.goto(f"{server.url}/?thread={gone}")
    expect(page.get_by_test_id("thread-title")).to_have_text("Deleted while the history loads")
    page.get_by_test_id("delete-thread").click()
    page.get_by_test_id("delete-confirm").click()
    expect(page.get_by_test_id("start-screen")).to_be_visible()

    history.release()  # read before the delete: it still lists the thread
    items = page.get_by_test_id("thread-list-item")
    expect(items).to_have_count(1)
    expect(items.first).to_have_attribute("data-thread-id", kept)
    assert page.page_errors == []


# --- Text ----------------------------------------------------------------------


def test_right_to_left_text_gets_its_direction(servers, page, artifacts):
    server = servers("builtin")
    page.goto(server.url + "/")
    arabic = "مرحبا بالعالم، كيف حالك اليوم"
    send(page, arabic)
    finished(page)

    bubble = page.get_by_test_id("message-user").locator("[dir]").first
    expect(bubble).to_have_attribute("dir", "auto")
    paragraph = assistant(page).locator(".md p").first
    expect(paragraph).to_have_attribute("dir", "auto")
    title = page.get_by_test_id("thread-title")
    expect(title).to_have_attribute("dir", "auto")
    listed = page.get_by_test_id("thread-list-item").first.locator("[dir=auto]")
    expect(listed).to_have_text(arabic)
    for element in (bubble, paragraph, title, listed):
        assert element.evaluate("el => getComputedStyle(el).direction") == "rtl"
    # English next to it stays left to right.
    send(page, "And now in English")
    finished(page, answers=2)
    assert assistant(page).locator(".md p").first.evaluate("el => getComputedStyle(el).direction") == "ltr"
    page.screenshot(path=str(artifacts / "browser-builtin-rtl.png"))


def test_titles_are_plain_text(servers, page):
    server = servers("builtin")
    page.goto(server.url + "/")
    send(page, "**Markdown** titles with `code` and [a link](https://example.com)")
    finished(page)
    expect(page.get_by_test_id("thread-title")).to_have_text("Markdown titles with code and a link")
    expect(page.get_by_test_id("thread-list-item").first).to_contain_text("Markdown titles with code and a link")


CODE_ANSWER = "Here it is:\n\n```python\nprint('hello')\nprint('world')\n```\n\nAnd plain:\n\n```\nno language\n```"


def test_code_blocks_have_a_language_label_and_a_copy_button(servers, page, artifacts):
    server = servers("builtin")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)

    def script(route):
        body = json.loads(route.request.post_data or "{}")
        if body.get("type") == "threads.list":
            return route.fulfill(json={"data": [], "has_more": False, "after": None})
        return route.fulfill(
            content_type="text/event-stream",
            body=sse(
                {"type": "thread.created", "thread": THREAD},
                {"type": "thread.item.done", "item": user_item("Show me code")},
                {"type": "thread.item.done", "item": assistant_item(CODE_ANSWER, "a1")},
            ),
        )

    page.route("**/chatkit", script)
    page.goto(server.url + "/")
    send(page, "Show me code")
    blocks = page.get_by_test_id("code-block")
    expect(blocks).to_have_count(2)
    expect(blocks.first.get_by_test_id("code-language")).to_have_text("python")
    expect(blocks.last.get_by_test_id("code-language")).to_have_text("text")
    blocks.first.get_by_test_id("code-copy").click()
    expect(blocks.first.get_by_test_id("code-copy")).to_contain_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == "print('hello')\nprint('world')"
    page.screenshot(path=str(artifacts / "browser-builtin-code.png"))
    assert page.page_errors == []


# --- Model choice ----------------------------------------------------------------


def test_no_picker_for_one_model(servers, page):
    page.goto(servers("builtin").url + "/")
    expect(page.get_by_test_id("composer-input")).to_be_visible()
    expect(page.get_by_test_id("model-picker")).to_have_count(0)


def test_picking_a_second_model_travels_with_the_message_and_is_recorded(servers, page, artifacts):
    server = servers("builtin", **TWO_MODELS)
    sent: list[dict] = []
    page.on(
        "request",
        lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/chatkit") and r.method == "POST" else None,
    )
    page.goto(server.url + "/")
    picker = page.get_by_test_id("model-picker")
    expect(picker).to_have_value("echo")
    assert picker.locator("option").all_inner_texts() == ["Echo", "Second echo"]
    picker.select_option(label="Second echo")
    send(page, "Answer with the second model")
    finished(page)
    expect(assistant(page)).to_have_text("second: Answer with the second model")

    created = next(r for r in sent if r["type"] == "threads.create")
    assert created["params"]["input"]["inference_options"] == {"model": "twin:second"}
    thread_id = shown_thread_id(page)
    ((stored,),) = sql(server, "SELECT data FROM chat_item WHERE thread_id = %s AND type = 'user_message'", thread_id)
    stored = json.loads(stored) if isinstance(stored, str) else stored  # text on SQLite, jsonb on PostgreSQL
    assert stored["inference_options"]["model"] == "twin:second"

    # The thread keeps its model after a reload; a new chat starts on the default.
    page.reload()
    expect(page.get_by_test_id("model-picker")).to_have_value("twin:second")
    page.screenshot(path=str(artifacts / "browser-builtin-models.png"))
    page.get_by_test_id("new-thread").click()
    expect(page.get_by_test_id("model-picker")).to_have_value("echo")


def test_the_chatkit_ui_gets_the_same_models_and_start_screen(servers, page):
    from .stubs import serve_chatkit_stub

    server = servers("chatkit", **TWO_MODELS)
    serve_chatkit_stub(page)
    page.emulate_media(color_scheme="dark")
    page.goto(server.url + "/")
    page.wait_for_function("() => window.__chatkitOptions !== undefined")
    options = page.evaluate(
        "() => ({composer: window.__chatkitOptions.composer, start: window.__chatkitOptions.startScreen})"
    )
    assert options["composer"]["models"] == [
        {"id": "echo", "label": "Echo", "default": True},
        {"id": "twin:second", "label": "Second echo", "default": False},
    ]
    assert options["start"]["greeting"] == "What can I help you with?"
    labels = [p["label"] for p in options["start"]["prompts"]]
    assert "Switch to light mode" in labels and "Switch to dark mode" not in labels


# --- Start screen ------------------------------------------------------------------


def test_start_prompts_that_do_not_apply_are_hidden(servers, page):
    server = servers("builtin")
    page.emulate_media(color_scheme="light")
    page.goto(server.url + "/")
    prompts = page.get_by_test_id("start-prompt")
    expect(prompts.filter(has_text="Switch to dark mode")).to_have_count(1)
    expect(prompts.filter(has_text="Switch to light mode")).to_have_count(0)
    expect(page.get_by_role("heading", name="What can I help you with?")).to_be_visible()
    page.get_by_test_id("theme-toggle").click()
    expect(prompts.filter(has_text="Switch to dark mode")).to_have_count(0)
    expect(prompts.filter(has_text="Switch to light mode")).to_have_count(1)


def test_greeting_and_prompts_come_from_settings(servers, page):
    prompts = [{"label": "Search the archive", "prompt": "Find letters from 1902"}]
    server = servers("builtin", CHATKIT_GREETING="Ask the archive", CHATKIT_START_PROMPTS=json.dumps(prompts))
    page.goto(server.url + "/")
    expect(page.get_by_role("heading", name="Ask the archive")).to_be_visible()
    expect(page.get_by_test_id("start-prompt")).to_have_count(1)
    page.get_by_test_id("start-prompt").click()
    expect(page.get_by_test_id("message-user")).to_have_text("Find letters from 1902")


# --- Polish ----------------------------------------------------------------------


CHOICES = {
    "type": "Card",
    "children": [
        {"type": "Text", "value": "Pick one"},
        {
            "type": "Row",
            "children": [
                {"type": "Button", "label": "Ask again", "onClickAction": {"type": "again"}},
                {"type": "Button", "label": "Choose", "onClickAction": {"type": "choose"}},
            ],
        },
    ],
}


def test_widget_buttons_are_disabled_after_a_choice_until_the_answer_updates_the_widget(servers, page):
    server = servers("builtin")
    widget_item = {
        "id": "w1",
        "thread_id": THREAD["id"],
        "created_at": THREAD["created_at"],
        "type": "widget",
        "widget": CHOICES,
    }

    def script(route):
        body = json.loads(route.request.post_data or "{}")
        kind = body.get("type")
        if kind == "threads.list":
            return route.fulfill(json={"data": [], "has_more": False, "after": None})
        if kind == "threads.create":
            return route.fulfill(
                content_type="text/event-stream",
                body=sse(
                    {"type": "thread.created", "thread": THREAD},
                    {"type": "thread.item.done", "item": user_item("Offer a choice")},
                    {"type": "thread.item.done", "item": widget_item},
                ),
            )
        action = body["params"]["action"]["type"]
        if action == "again":  # the answer updates the widget: its buttons come back
            return route.fulfill(
                content_type="text/event-stream",
                body=sse(
                    {
                        "type": "thread.item.updated",
                        "item_id": "w1",
                        "update": {
                            "type": "widget.root.updated",
                            "widget": {
                                **CHOICES,
                                "children": [{"type": "Text", "value": "Pick again"}, CHOICES["children"][1]],
                            },
                        },
                    },
                ),
            )
        return route.fulfill(
            content_type="text/event-stream",
            body=sse(
                {"type": "thread.item.done", "item": assistant_item("You chose.", "a2")},
            ),
        )

    page.route("**/chatkit", script)
    page.goto(server.url + "/")
    send(page, "Offer a choice")
    again, choose = page.get_by_role("button", name="Ask again"), page.get_by_role("button", name="Choose")
    expect(choose).to_be_enabled()
    again.click()
    expect(page.get_by_test_id("widget")).to_contain_text("Pick again")
    expect(again).to_be_enabled()
    choose.click()
    expect(page.get_by_test_id("message-assistant")).to_contain_text("You chose.")
    expect(choose).to_be_disabled()
    expect(again).to_be_disabled()


def test_the_mobile_drawer_closes_on_escape_and_outside_tap(servers, page):
    server = servers("builtin")
    page.set_viewport_size({"width": 390, "height": 760})
    page.goto(server.url + "/")
    sidebar = page.get_by_test_id("sidebar")
    show = page.get_by_role("button", name="Show chats")
    show.click()
    expect(sidebar).to_be_visible()
    expect(page.get_by_test_id("new-thread")).to_be_focused()
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    show.click()
    expect(sidebar).to_be_visible()
    page.mouse.click(360, 400)  # on the dimmed page, right of the 288px drawer
    expect(sidebar).to_be_hidden()


def test_no_desktop_hints_on_a_touch_screen(servers, browser):
    server = servers("builtin")
    phone = browser.new_context(viewport={"width": 390, "height": 760}, has_touch=True, is_mobile=True)
    try:
        page = phone.new_page()
        page.goto(server.url + "/")
        box = page.get_by_test_id("composer-input")
        expect(box).to_be_visible()
        expect(page.get_by_test_id("composer-hint")).to_have_count(0)
        assert "Enter" not in (page.get_by_test_id("send-button").get_attribute("title") or "")
        # Enter is a new line on a phone's keyboard; the button sends.
        box.fill("line one")
        box.press("Enter")
        expect(box).to_have_value("line one\n")
        page.get_by_test_id("send-button").tap()
        expect(page.get_by_test_id("message-user")).to_have_text("line one")
    finally:
        phone.close()


def test_a_desktop_shows_the_keyboard_hint(servers, page):
    page.goto(servers("builtin").url + "/")
    expect(page.get_by_test_id("composer-hint")).to_contain_text("Enter to send")


def test_a_stopped_answer_is_marked_cut_off_and_stays_marked(servers, page):
    server = servers("builtin")
    page.goto(server.url + "/")
    send(page, " ".join(f"word{i}" for i in range(80)))
    expect(assistant(page)).to_contain_text("word2")
    page.get_by_test_id("stop-button").click()
    expect(page.get_by_test_id("send-button")).to_be_visible()
    expect(assistant(page).get_by_test_id("cut-off")).to_contain_text("cut off")
    assert "word79" not in assistant(page).inner_text()

    page.reload()
    expect(assistant(page).get_by_test_id("cut-off")).to_be_visible()
    # A finished answer has no marker.
    send(page, "a complete answer")
    finished(page, answers=2)
    expect(assistant(page)).to_contain_text("a complete answer")
    expect(assistant(page).get_by_test_id("cut-off")).to_have_count(0)


# --- Accessibility -----------------------------------------------------------------


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_accessibility_violations(servers, page, theme, artifacts):
    server = servers("builtin")
    page.emulate_media(color_scheme=theme)
    page.goto(server.url + "/")
    expect(page.get_by_test_id("start-screen")).to_be_visible()
    assert serious_axe_violations(page) == []

    send(page, "A **bold** answer with `code` and a list:\n- one\n- two")
    finished(page)
    page.get_by_test_id("feedback-positive").click()
    expect(page.locator("html")).to_have_class(
        re.compile(r"\bdark\b") if theme == "dark" else re.compile(r"^(?!.*\bdark\b)")
    )
    assert serious_axe_violations(page) == []
    page.screenshot(path=str(artifacts / f"browser-builtin-axe-{theme}.png"))

    set_status(server, shown_thread_id(page), "locked", "Locked by a moderator")
    page.reload()
    expect(page.get_by_test_id("thread-status")).to_be_visible()
    assert serious_axe_violations(page) == []

    # The check can fail: an unlabelled image button is a critical finding.
    page.evaluate(
        "() => document.querySelector('main').append(Object.assign(document.createElement('button'), {innerHTML: '<img src=x>'}))"
    )
    assert {v["id"] for v in serious_axe_violations(page)} & {"button-name", "image-alt"}
