"""The official ChatKit path, with a stand-in for the CDN script, and the fallback."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import create_thread
from .stubs import block_chatkit_cdn, serve_chatkit_stub

pytestmark = pytest.mark.browser


def recorded_options(page) -> dict:
    page.wait_for_function("() => window.__chatkitOptions !== undefined")
    return page.evaluate(
        """() => {
            const o = window.__chatkitOptions;
            return {
                url: o.api.url,
                domainKey: o.api.domainKey,
                fetchType: typeof o.api.fetch,
                initialThread: o.initialThread ?? null,
                history: o.history,
                threadItemActions: o.threadItemActions,
                prompts: (o.startScreen?.prompts ?? []).length,
                colorScheme: o.theme?.colorScheme,
                onClientTool: typeof o.onClientTool,
                headerRight: o.header?.rightAction?.icon ?? null,
                uploadStrategy: o.api.uploadStrategy ?? null,
                attachments: o.composer?.attachments ?? null,
            };
        }"""
    )


@pytest.mark.parametrize("ui", ["chatkit", "auto"])
def test_chatkit_gets_endpoint_domain_key_and_csrf_fetch(servers, page, artifacts, ui):
    server = servers(ui)
    serve_chatkit_stub(page)
    seen_headers: list[dict] = []

    def record(route):
        seen_headers.append(route.request.headers)
        route.continue_()

    page.route("**/chatkit", record)
    page.goto(server.url + "/")
    expect(page.get_by_test_id("app")).to_have_attribute("data-ui", "chatkit")

    options = recorded_options(page)
    assert options["url"] == "/chatkit"
    assert options["domainKey"] == "domain_pk_localhost_dev"
    assert options["fetchType"] == "function"
    assert options["history"] == {"enabled": True, "showRename": True, "showDelete": True}
    assert options["threadItemActions"] == {"feedback": True, "retry": True}
    assert options["prompts"] >= 1
    assert options["colorScheme"] in ("light", "dark")
    assert options["onClientTool"] == "function"
    assert options["headerRight"] in ("light-mode", "dark-mode")
    # Attachments: the strategy and limits come from the server's settings.
    assert options["uploadStrategy"] == {"type": "two_phase"}
    attachments = options["attachments"]
    assert attachments["enabled"] is True and attachments["maxSize"] == 10_485_760 and attachments["maxCount"] == 5
    assert attachments["accept"]["application/pdf"] == [".pdf"] and ".md" in attachments["accept"]["text/*"]

    # ChatKit calls api.fetch for every request; call it the same way.
    status, body = page.evaluate(
        """async () => {
            const res = await window.__chatkitOptions.api.fetch('/chatkit', {
                method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({type: 'threads.list', params: {limit: 5, order: 'desc'}}),
            });
            return [res.status, await res.json()];
        }"""
    )
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    assert seen_headers and seen_headers[-1].get("x-csrftoken") == token
    # CSRF is on: the server accepted it only because the header matched the cookie.
    assert status == 200, body
    assert body["data"] == []

    # A client tool runs through the shared registry: switch_theme flips the page.
    result = page.evaluate(
        "() => window.__chatkitOptions.onClientTool({name: 'switch_theme', params: {theme: 'dark'}})"
    )
    assert result == {"success": True, "theme": "dark"}
    expect(page.locator("html")).to_have_class("dark")
    # The header's theme button toggles back, and ChatKit gets the new scheme.
    page.evaluate("() => window.__chatkitOptions.header.rightAction.onClick()")
    expect(page.locator("html")).not_to_have_class("dark")
    page.wait_for_function("() => window.__chatkitOptions.theme.colorScheme === 'light'")
    if ui == "chatkit":
        page.screenshot(path=str(artifacts / "browser-chatkit-stub.png"))
    assert page.page_errors == []


def test_chatkit_reopens_thread_from_url(servers, page):
    server = servers("chatkit")
    serve_chatkit_stub(page)
    page.goto(server.url + "/")
    thread_id = create_thread(page, "a thread to link to")
    page.goto(f"{server.url}/?thread={thread_id}")
    assert recorded_options(page)["initialThread"] == thread_id
    expect(page.get_by_test_id("link-notice")).to_have_count(0)


def test_chatkit_gets_no_dead_link_and_says_so(servers, page):
    server = servers("chatkit")
    serve_chatkit_stub(page)
    page.goto(server.url + "/?thread=thr_someone_elses")
    expect(page.get_by_test_id("link-notice")).to_have_text(re.compile("This chat doesn't exist or isn't yours"))
    assert recorded_options(page)["initialThread"] is None
    assert "thread=" not in page.url


def test_chatkit_mode_says_so_when_the_script_cannot_load(servers, page):
    server = servers("chatkit")
    block_chatkit_cdn(page)
    page.goto(server.url + "/")
    expect(page.get_by_test_id("app")).to_have_attribute("data-ui", "chatkit")
    expect(page.get_by_test_id("chatkit-error")).to_contain_text("could not be loaded", timeout=8000)


def test_auto_falls_back_to_builtin_when_cdn_is_blocked(servers, page, artifacts):
    server = servers("auto")
    block_chatkit_cdn(page)
    page.goto(server.url + "/")
    # The script's load error decides at once; no need to wait out loadTimeoutMs.
    expect(page.get_by_test_id("app")).to_have_attribute("data-ui", "builtin", timeout=3000)
    expect(page.get_by_test_id("builtin-chat")).to_be_visible()
    page.get_by_test_id("composer-input").fill("Fallback works offline")
    page.get_by_test_id("composer-input").press("Enter")
    expect(page.get_by_test_id("message-assistant").last).to_have_attribute("data-streaming", "false")
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("Fallback works offline")
    page.screenshot(path=str(artifacts / "browser-auto-fallback.png"))


def test_auto_falls_back_after_timeout_when_script_never_defines_element(servers, page):
    server = servers("auto")
    # The script loads but defines nothing (a broken or changed CDN file).
    page.route(
        "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body="/* nothing */"),
    )
    page.goto(server.url + "/")
    expect(page.get_by_test_id("ui-loading")).to_be_visible()
    expect(page.get_by_test_id("app")).to_have_attribute("data-ui", "builtin", timeout=8000)
