"""Widgets in the browser: a choice card in the built-in client, an approval, the ChatKit UI's
widgets.onAction, and the admin refusing a broken template and previewing a good one.

One server process (the built-in client) answers from a script file (:mod:`tests.scripted_file`)
that each test rewrites; the agent is :mod:`tests.approval_agent` plus the enabled templates.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.servers import PROJECT, live_server

from .stubs import block_chatkit_cdn, serve_chatkit_stub

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "widgets-admin-pw"


@dataclass(frozen=True)
class WidgetServer:
    url: str
    script: Path
    outbox: Path


@pytest.fixture(scope="module")
def widget_server(tmp_path_factory, _browser_ready):
    root = tmp_path_factory.mktemp("browser-widgets")
    script, outbox = root / "script.json", root / "outbox.jsonl"
    script.write_text("[]")
    outbox.touch()
    env = {
        "CHATKIT_UI": "builtin",
        "CHATKIT_MODEL_PROVIDERS": json.dumps({"scripted-file": "tests.scripted_file.FileScriptProvider"}),
        "CHATKIT_MODEL": f"scripted-file:{script}",
        "CHATKIT_AGENT": "tests.approval_agent.approval_agent",
        "CHATKIT_TEST_OUTBOX": str(outbox),
    }
    with live_server(root, **env) as live:
        manage = [sys.executable, "manage.py"]
        subprocess.run(
            [
                *manage,
                "loadwidgets",
                "--enable",
                "chat/widgets/data/choice_card.widget",
                "tests/widgets/theme_buttons.widget",
            ],
            cwd=PROJECT,
            env=live.env,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [*manage, "createsuperuser", "--noinput", "--username", "boss", "--email", "boss@example.com"],
            cwd=PROJECT,
            env={**live.env, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD},
            check=True,
            capture_output=True,
        )
        yield WidgetServer(url=live.url, script=script, outbox=outbox)


def script(server, *steps: dict) -> None:
    server.script.write_text(json.dumps(list(steps)))


def send(page, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")


def test_click_a_choice_and_see_the_widget_update_and_the_answer(widget_server, page, artifacts):
    script(
        widget_server,
        {
            "call": "widget_choice_card",
            "arguments": {
                "question": "Which plan?",
                "options": [{"label": "Starter", "value": "starter"}, {"label": "Team", "value": "team"}],
            },
        },
        {"say": "Pick a plan above."},
        {"say": "Team it is: five seats."},
    )
    block_chatkit_cdn(page)
    page.goto(widget_server.url + "/")
    send(page, "Which plan should I take?")
    widget = page.get_by_test_id("message-widget")
    expect(widget.get_by_text("Which plan?")).to_be_visible()
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("Pick a plan above.")
    team = widget.get_by_role("button", name="Team")
    expect(team).to_be_enabled()

    team.click()
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("Team it is: five seats.")
    # The widget was replaced by its answered form: every button disabled, the choice marked.
    expect(widget.get_by_role("button", name="Team")).to_be_disabled()
    expect(widget.get_by_role("button", name="Starter")).to_be_disabled()
    expect(widget.get_by_role("button", name="Team")).to_have_class(re.compile(r"\bw-btn-primary\b"))
    page.screenshot(path=str(artifacts / "browser-widget-choice.png"))

    # After a reload the stored widget is the answered one.
    page.reload()
    expect(page.get_by_test_id("message-widget").get_by_role("button", name="Team")).to_be_disabled()
    assert page.page_errors == []


def test_approve_a_tool_call_and_see_it_run(widget_server, page, artifacts):
    script(
        widget_server,
        {"call": "send_email", "arguments": {"to": "ana@example.com", "subject": "Lunch"}},
        {"say": "Done: the email to Ana is sent."},
    )
    block_chatkit_cdn(page)
    page.goto(widget_server.url + "/")
    send(page, "Email Ana about lunch")
    card = page.get_by_test_id("message-widget").filter(has_text="Approve this action?")
    expect(card).to_be_visible()
    expect(card).to_contain_text("ana@example.com")
    expect(card).to_contain_text("Waiting for you")
    assert widget_server.outbox.read_text() == ""
    page.screenshot(path=str(artifacts / "browser-approval-card.png"))

    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("Done: the email to Ana is sent.")
    expect(card).to_contain_text("Approved by you")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    assert [json.loads(line)["to"] for line in widget_server.outbox.read_text().splitlines()] == ["ana@example.com"]
    assert page.page_errors == []


def test_a_client_action_runs_in_the_built_in_client_without_a_request(widget_server, page):
    script(
        widget_server,
        {"call": "widget_theme_buttons", "arguments": {"title": "Light or dark?"}},
        {"say": "Pick a theme."},
    )
    block_chatkit_cdn(page)
    page.goto(widget_server.url + "/")
    page.evaluate("() => localStorage.clear()")
    send(page, "Change the theme")
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("Pick a theme.")
    actions: list[str] = []
    page.on(
        "request", lambda request: actions.append(request.post_data or "") if request.url.endswith("/chatkit") else None
    )
    page.get_by_test_id("message-widget").get_by_role("button", name="Dark").click()
    expect(page.locator("html")).to_have_class("dark")
    page.get_by_test_id("message-widget").get_by_role("button", name="Light").click()
    expect(page.locator("html")).not_to_have_class("dark")
    assert not [body for body in actions if "custom_action" in body]


def test_the_chatkit_ui_hands_client_actions_to_the_page(servers, page):
    server = servers("chatkit")
    serve_chatkit_stub(page)
    page.goto(server.url + "/")
    page.wait_for_function("() => window.__chatkitOptions && window.__chatkitOptions.widgets")
    page.evaluate(
        "() => window.__chatkitOptions.widgets.onAction({type: 'switch_theme', payload: {theme: 'dark'}}, {id: 'msg_1', widget: {type: 'Card', children: []}})"
    )
    expect(page.locator("html")).to_have_class("dark")


def admin_login(page, server) -> None:
    page.goto(server.url + "/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("boss")


def test_the_admin_refuses_a_broken_template_and_previews_a_good_one(widget_server, page, artifacts):
    admin_login(page, widget_server)
    page.goto(widget_server.url + "/admin/chat/widgettemplate/add/")
    broken = json.loads((PROJECT / "chat/widgets/data/summary_card.widget").read_text())
    broken["template"] = broken["template"].replace("{% for row in rows %}", "{% for row in rows %")
    page.fill("#id_definition_text", json.dumps(broken, indent=2))
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("template line 1")
    page.screenshot(path=str(artifacts / "browser-admin-widget-refused.png"))

    good = (PROJECT / "chat/widgets/data/summary_card.widget").read_text()
    page.fill("#id_definition_text", good)
    page.fill("#id_slug", "order_summary")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page.get_by_test_id("built-json")).to_contain_text("Your order")

    frame = page.frame_locator("[data-testid=widget-preview-frame]")
    expect(frame.get_by_test_id("widget-card")).to_contain_text("Your order")
    expect(frame.get_by_test_id("widget-card")).to_contain_text("€42.00")
    page.get_by_test_id("widget-preview-frame").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "browser-admin-widget-preview.png"), full_page=True)

    # A template with a button: the preview shows the action it would send.
    page.goto(widget_server.url + "/admin/chat/widgettemplate/?q=choice_card")
    page.get_by_role("link", name="Choice card").click()
    frame = page.frame_locator("[data-testid=widget-preview-frame]")
    frame.get_by_role("button", name="Team").click()
    expect(frame.get_by_test_id("preview-action")).to_contain_text(
        'server action widget.choose {"value":"team","label":"Team"}'
    )
    expect(page.get_by_test_id("widget-actions")).to_contain_text("handler registered")
    assert page.page_errors == []
