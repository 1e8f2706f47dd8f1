"""The built-in client's handling of protocol features the echo model never sends.

The page comes from the real server; ``/chatkit`` is answered by a scripted
route so widgets, widget actions, client tool calls, progress and error events
can be driven exactly.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from .helpers import send
from .test_live_threads import wait_for

pytestmark = pytest.mark.browser

T = "2026-01-01T10:00:00"
THREAD = {"id": "thr_scripted", "title": "Scripted", "created_at": T, "status": {"type": "active"}, "metadata": {}}

WIDGET = {
    "type": "Card",
    "children": [
        {
            "type": "Row",
            "children": [
                {"type": "Title", "value": "Order #1042"},
                {"type": "Spacer"},
                {"type": "Badge", "label": "Shipped", "color": "success"},
            ],
        },
        {"type": "Text", "id": "status", "value": "Arrives", "color": "secondary"},
        {"type": "Divider"},
        {
            "type": "ListView",
            "children": [
                {
                    "type": "ListViewItem",
                    "children": [
                        {
                            "type": "Col",
                            "children": [
                                {"type": "Text", "value": "Blue mug", "weight": "semibold"},
                                {"type": "Caption", "value": "Qty 2"},
                            ],
                        },
                    ],
                },
            ],
        },
        {"type": "Markdown", "value": "Need help? **Reply** here."},
        {
            "type": "Row",
            "gap": 2,
            "children": [
                {
                    "type": "Button",
                    "label": "Track parcel",
                    "style": "primary",
                    "onClickAction": {"type": "track", "payload": {"order": 1042}},
                },
                {"type": "Button", "label": "Dismiss", "style": "secondary", "onClickAction": {"type": "dismiss"}},
            ],
        },
    ],
}


def sse(*events: dict) -> str:
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events)


def user_item(text: str, item_id: str = "u1") -> dict:
    return {
        "id": item_id,
        "thread_id": THREAD["id"],
        "created_at": T,
        "type": "user_message",
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


def assistant_item(text: str, item_id: str) -> dict:
    return {
        "id": item_id,
        "thread_id": THREAD["id"],
        "created_at": T,
        "type": "assistant_message",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


class ScriptedChatKit:
    """Answers POST /chatkit from a script and records what the page sent."""

    def __init__(self):
        self.requests: list[dict] = []

    def __call__(self, route):
        body = json.loads(route.request.post_data or "{}")
        self.requests.append(body)
        kind = body.get("type")
        if kind == "threads.list":
            return route.fulfill(json={"data": [], "has_more": False, "after": None})
        if kind == "threads.create":
            widget_item = {"id": "w1", "thread_id": THREAD["id"], "created_at": T, "type": "widget", "widget": WIDGET}
            return route.fulfill(
                content_type="text/event-stream",
                body=sse(
                    {"type": "thread.created", "thread": THREAD},
                    {"type": "thread.item.done", "item": user_item(body["params"]["input"]["content"][0]["text"])},
                    {"type": "stream_options", "stream_options": {"allow_cancel": True}},
                    {"type": "progress_update", "text": "Looking up your order"},
                    {"type": "thread.item.added", "item": widget_item},
                    {
                        "type": "thread.item.updated",
                        "item_id": "w1",
                        "update": {
                            "type": "widget.streaming_text.value_delta",
                            "component_id": "status",
                            "delta": " on Friday",
                            "done": True,
                        },
                    },
                    {
                        "type": "thread.item.done",
                        "item": {
                            **widget_item,
                            "widget": {
                                **WIDGET,
                                "children": [
                                    c if c.get("id") != "status" else {**c, "value": "Arrives on Friday"}
                                    for c in WIDGET["children"]
                                ],
                            },
                        },
                    },
                    {"type": "notice", "level": "info", "message": "Prices include tax."},
                ),
            )
        if kind == "threads.custom_action":
            return route.fulfill(
                content_type="text/event-stream",
                body=sse(
                    {
                        "type": "thread.item.done",
                        "item": {
                            "id": "call1",
                            "thread_id": THREAD["id"],
                            "created_at": T,
                            "type": "client_tool_call",
                            "status": "pending",
                            "call_id": "c1",
                            "name": "switch_theme",
                            "arguments": {"theme": "dark"},
                        },
                    },
                ),
            )
        if kind == "threads.add_client_tool_output":
            return route.fulfill(
                content_type="text/event-stream",
                body=sse(
                    {"type": "thread.item.done", "item": assistant_item("Switched to **dark**.", "a2")},
                    {"type": "error", "code": "custom", "message": "The parcel service is down.", "allow_retry": False},
                ),
            )
        return route.fulfill(status=400, json={"error": {"code": "unexpected", "message": kind}})


def test_widgets_actions_client_tools_and_errors(servers, page, artifacts):
    server = servers("builtin")
    script = ScriptedChatKit()
    page.route("**/chatkit", script)
    page.emulate_media(color_scheme="light")
    page.goto(server.url + "/")

    page.get_by_test_id("composer-input").fill("Where is my order?")
    page.get_by_test_id("composer-input").press("Enter")

    widget = page.get_by_test_id("widget")
    expect(widget).to_contain_text("Order #1042")
    expect(widget).to_contain_text("Shipped")
    expect(widget).to_contain_text("Arrives on Friday")
    expect(widget).to_contain_text("Blue mug")
    expect(widget.locator("strong")).to_have_text("Reply")
    expect(page.get_by_test_id("notice")).to_contain_text("Prices include tax.")
    page.screenshot(path=str(artifacts / "browser-builtin-widget.png"))

    # The button's onClickAction goes out as threads.custom_action on that item;
    # the answer is a client tool call, run here and answered with its output.
    page.get_by_role("button", name="Track parcel").click()
    expect(page.locator("html")).to_have_class("dark")
    expect(page.get_by_test_id("message-assistant")).to_contain_text("Switched to dark.")
    expect(page.get_by_test_id("error")).to_contain_text("The parcel service is down.")

    kinds = [r["type"] for r in script.requests]
    assert kinds[-3:] == ["threads.create", "threads.custom_action", "threads.add_client_tool_output"], kinds
    action = script.requests[-2]["params"]
    assert action == {
        "thread_id": "thr_scripted",
        "item_id": "w1",
        "action": {"type": "track", "payload": {"order": 1042}},
    }
    output = script.requests[-1]["params"]
    assert output == {"thread_id": "thr_scripted", "result": {"success": True, "theme": "dark"}}
    page.screenshot(path=str(artifacts / "browser-builtin-widget-dark.png"))
    assert page.page_errors == []


def test_http_error_before_the_stream_is_shown_and_the_message_kept(servers, page):
    server = servers("builtin")

    def refuse(route):
        body = json.loads(route.request.post_data or "{}")
        if body.get("type") == "threads.list":
            return route.fulfill(json={"data": [], "has_more": False, "after": None})
        return route.fulfill(
            status=400, json={"error": {"code": "invalid_request", "message": "That request was malformed."}}
        )

    page.route("**/chatkit", refuse)
    page.goto(server.url + "/")
    page.get_by_test_id("composer-input").fill("Keep me")
    page.get_by_test_id("composer-input").press("Enter")
    expect(page.get_by_test_id("error")).to_contain_text("That request was malformed.")
    expect(page.get_by_test_id("composer-input")).to_have_value("Keep me")


def test_network_failure_is_shown(servers, page):
    server = servers("builtin")
    page.goto(server.url + "/")
    expect(page.get_by_test_id("thread-list")).to_be_visible()
    page.route("**/chatkit", lambda route: route.abort("connectionrefused"))
    page.get_by_test_id("composer-input").fill("Anyone there?")
    page.get_by_test_id("composer-input").press("Enter")
    expect(page.get_by_test_id("error")).to_contain_text("Could not reach the server")


# --- A client tool call of a stream left running unseen ------------------------

LOADED = {**THREAD, "id": "thr_loaded", "title": "Loaded earlier"}


def tool_call(thread_id: str, item_id: str) -> dict:
    return {
        "id": item_id,
        "thread_id": thread_id,
        "created_at": T,
        "type": "client_tool_call",
        "status": "pending",
        "call_id": f"c_{item_id}",
        "name": "switch_theme",
        "arguments": {"theme": "dark"},
    }


class HeldStreams:
    """Answers POST /chatkit from a script, holding each streaming request until the test releases it.

    The history lists one thread, whose saved items end on a client tool call still
    pending (another tab's, or one never answered).
    """

    def __init__(self, page):
        self.page = page
        self.requests: list[dict] = []
        self.held: dict[str, object] = {}
        page.route("**/chatkit", self._route)

    def _route(self, route):
        body = json.loads(route.request.post_data or "{}")
        self.requests.append(body)
        kind = body.get("type")
        thread_id = body.get("params", {}).get("thread_id")
        if kind == "threads.list":
            return route.fulfill(json={"data": [LOADED], "has_more": False, "after": None})
        if kind == "threads.get_by_id" and thread_id == LOADED["id"]:
            return route.fulfill(json=LOADED)
        if kind == "items.list" and thread_id == LOADED["id"]:
            asked = {**user_item("Make it dark", "u0"), "thread_id": LOADED["id"]}
            items = [tool_call(LOADED["id"], "call0"), asked]  # newest first
            return route.fulfill(json={"data": items, "has_more": False, "after": None})
        if kind in ("threads.create", "threads.add_client_tool_output"):
            self.held[kind] = route
            return None
        return route.fulfill(status=400, json={"error": {"code": "unexpected", "message": kind}})

    def sent(self, kind: str) -> list[dict]:
        return [r["params"] for r in self.requests if r.get("type") == kind]

    def release(self, kind: str, *events: dict) -> None:
        """Answer the held request of that kind (waiting until the page has sent it) with these events."""
        wait_for(self.page, lambda: kind in self.held)
        self.held.pop(kind).fulfill(content_type="text/event-stream", body=sse(*events))


def test_a_client_tool_call_is_answered_once_even_if_its_stream_ended_unseen(servers, page):
    server = servers("builtin")
    script = HeldStreams(page)
    page.emulate_media(color_scheme="light")
    page.goto(server.url + "/")
    html = page.locator("html")

    # A new thread's answer is on its way when the person opens a thread from the history.
    send(page, "Switch to dark")
    wait_for(page, lambda: "threads.create" in script.held)
    page.get_by_test_id("thread-list-item").filter(has_text="Loaded earlier").click()
    expect(page.get_by_test_id("thread-title")).to_have_text("Loaded earlier")
    # Its saved tool call is shown, not run: it is the tab's that asked for it to run.
    expect(page.get_by_test_id("message-tool-call")).to_contain_text("switch_theme")
    page.wait_for_timeout(300)
    expect(html).not_to_have_class(re.compile(r"\bdark\b"))
    assert script.sent("threads.add_client_tool_output") == []

    # The unseen answer ends on a client tool call: this tab runs it and sends its output,
    # unseen too, while the loaded thread stays shown.
    script.release(
        "threads.create",
        {"type": "thread.created", "thread": THREAD},
        {"type": "thread.item.done", "item": user_item("Switch to dark")},
        {"type": "thread.item.done", "item": tool_call(THREAD["id"], "call1")},
    )
    expect(html).to_have_class(re.compile(r"\bdark\b"))
    wait_for(page, lambda: "threads.add_client_tool_output" in script.held)
    assert script.sent("threads.add_client_tool_output") == [
        {"thread_id": THREAD["id"], "result": {"success": True, "theme": "dark"}}
    ]
    expect(page.get_by_test_id("thread-title")).to_have_text("Loaded earlier")
    expect(page.get_by_test_id("message-user")).to_have_text(["Make it dark"])

    # Back to the new thread while that answer is written: shown from its stream, not loaded.
    page.get_by_test_id("thread-list-item").filter(has_text="Scripted").click()
    expect(page.get_by_test_id("thread-title")).to_have_text("Scripted")
    expect(page.get_by_test_id("message-user")).to_have_text(["Switch to dark"])
    expect(page.get_by_test_id("message-tool-call")).to_have_text("Ran switch_theme")
    expect(page.get_by_test_id("stop-button")).to_be_visible()
    script.release(
        "threads.add_client_tool_output",
        {"type": "thread.item.done", "item": assistant_item("Switched to **dark**.", "a1")},
    )
    expect(page.get_by_test_id("message-assistant")).to_have_text("Switched to dark.")
    expect(page.get_by_test_id("send-button")).to_be_visible()
    page.wait_for_timeout(300)
    assert len(script.sent("threads.add_client_tool_output")) == 1
    assert THREAD["id"] not in [p["thread_id"] for p in script.sent("threads.get_by_id")]
    assert page.page_errors == []
