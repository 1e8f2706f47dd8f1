"""Helpers shared by the browser tests: driving the page, the protocol as the page's owner, the DB."""

from __future__ import annotations

import json
import re

from agents import ModelProvider
from playwright.sync_api import expect

from tests.servers import PROJECT, LiveServer, set_json_key

AXE_JS = PROJECT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


def assistant(page):
    return page.get_by_test_id("message-assistant").last


def send(page, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")


def shown_thread_id(page, other_than: str | None = None) -> str:
    """The id of the thread in the page's URL (``?thread=…``), once it is there (and not ``other_than``).

    The client writes the URL after it renders the thread, so right after an
    answer finishes it may not be there yet: wait for it, don't read it at once.
    """
    pattern = r"[?&]thread=([\w-]+)"
    if other_than is not None:
        pattern = r"[?&]thread=(?!" + re.escape(other_than) + r"(?:$|&))([\w-]+)"
    expect(page).to_have_url(re.compile(pattern))
    return re.search(pattern, page.url).group(1)


def create_thread(page, text: str) -> str:
    """Start a thread through ``POST /chatkit`` as the page's owner (cookies, CSRF); returns its id."""
    return page.evaluate(
        """async (text) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const res = await fetch('/chatkit', {method: 'POST', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
                body: JSON.stringify({type: 'threads.create', params: {input: {
                    content: [{type: 'input_text', text}], attachments: [], inference_options: {}}}})});
            const body = await res.text();
            return JSON.parse(body.split('\\n\\n')[0].slice(6)).thread.id;
        }""",
        text,
    )


def sql(server: LiveServer, statement: str, *args) -> list[tuple]:
    """Run one statement (``%s`` placeholders) on the server's database (what an admin action would change)."""
    return server.query(statement, *args)


def set_status(server: LiveServer, thread_id: str, status: str, reason: str | None = None) -> None:
    """Lock, close or reopen a thread as the admin's actions do (column and stored JSON)."""
    data = {"type": status, **({"reason": reason} if reason else {})}
    sql(
        server,
        f"UPDATE chat_thread SET status = %s, data = {set_json_key(server.database_url)} WHERE id = %s",
        status,
        json.dumps(data),
        thread_id,
    )


def serious_axe_violations(page) -> list[dict]:
    """Run axe-core (the npm package's own build, injected) on the page; serious and critical findings.

    Injected through the DevTools protocol (``page.evaluate``), which the page's
    Content-Security-Policy doesn't govern: a script tag would be refused, as it should.
    """
    page.evaluate(AXE_JS.read_text() + "\n;undefined")
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert results["testEngine"]["name"] == "axe-core", results.get("testEngine")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


class TwinEchoProvider(ModelProvider):
    """``twin:<name>`` (as ``CHATKIT_MODEL_PROVIDERS`` names it): an echo whose answers start with "<name>:".

    A second model for the picker's test that shows in its answer which model answered.
    """

    def get_model(self, model_name: str | None):
        from chat.llm.echo import EchoModel, latest_user_text

        label = model_name or "twin"

        class NamedEcho(EchoModel):
            def _tagged(self, input):
                items = [input] if isinstance(input, str) else list(input)
                return [*items, {"role": "user", "content": f"{label}: {latest_user_text(input)}"}]

            async def get_response(self, system_instructions, input, *args, **kwargs):
                return await super().get_response(system_instructions, self._tagged(input), *args, **kwargs)

            def stream_response(self, system_instructions, input, *args, **kwargs):
                return super().stream_response(system_instructions, self._tagged(input), *args, **kwargs)

        return NamedEcho(name=f"twin:{label}")
