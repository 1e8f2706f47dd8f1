"""The chat page's config and the item-state endpoint, through the real ASGI app."""

from __future__ import annotations

import json
import re

import pytest

from chat.threads import title_from_text
from tests.helpers import user_input

pytestmark = pytest.mark.django_db(transaction=True)


async def page_config(client, query: str = "") -> dict:
    page = await client.http.get("/" + query)
    assert page.status_code == 200
    found = re.search(r'<script id="chatkit-config" type="application/json">(.*?)</script>', page.text, re.S)
    assert found, page.text[:500]
    return json.loads(found.group(1))


async def test_one_model_alone_by_default(client, settings):
    settings.CHATKIT_MODELS = []
    config = await page_config(client)
    assert config["models"] == [{"id": "echo", "label": "echo", "default": True}]
    assert config["itemStateUrl"] == "/chatkit/item-state"


async def test_listed_models_with_the_configured_one_as_default(client, settings):
    settings.CHATKIT_MODELS = [{"id": "openai:gpt-4.1", "label": "GPT"}, {"id": "echo", "label": "Echo"}]
    config = await page_config(client)
    assert config["models"] == [
        {"id": "openai:gpt-4.1", "label": "GPT", "default": False},
        {"id": "echo", "label": "Echo", "default": True},
    ]


async def test_greeting_and_prompts_are_settings(client, settings):
    settings.CHATKIT_GREETING = "Ask the archive"
    settings.CHATKIT_START_PROMPTS = [{"label": "Find", "prompt": "Find the 1902 letters", "theme": "dark"}]
    config = await page_config(client)
    assert config["greeting"] == "Ask the archive"
    assert config["startPrompts"] == [{"label": "Find", "prompt": "Find the 1902 letters", "theme": "dark"}]


async def test_a_thread_link_that_is_not_the_owners_is_flagged(make_client):
    alice, bob = make_client(), make_client()
    await alice.http.get("/")
    thread_id, _ = await alice.new_thread("mine")
    assert (await page_config(alice, f"?thread={thread_id}"))["missingThread"] is False
    await bob.http.get("/")
    assert (await page_config(bob, f"?thread={thread_id}"))["missingThread"] is True
    assert (await page_config(bob, "?thread=thr_gone"))["missingThread"] is True
    assert (await page_config(bob))["missingThread"] is False


async def test_item_state_gives_feedback_and_stopped_answers_to_the_owner_only(make_client):
    from asgiref.sync import sync_to_async

    from chat import models

    alice, bob = make_client(), make_client()
    await alice.http.get("/")
    thread_id, events = await alice.new_thread("rate me")
    answer = next(
        e["item"]["id"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
    )
    await alice.json("items.feedback", thread_id=thread_id, item_ids=[answer], kind="positive")
    await alice.json("items.feedback", thread_id=thread_id, item_ids=[answer], kind="negative")

    url = "/chatkit/item-state"
    mine = await alice.http.get(url, params={"thread_id": thread_id})
    assert mine.status_code == 200
    assert mine.json() == {"feedback": {answer: "negative"}, "stopped": []}

    # A stop: the SDK saves the partial answer, then its hidden cancel note.
    @sync_to_async
    def stop_after_answer() -> None:
        row = models.Item.objects.get(id=answer)
        models.Item.objects.create(
            id="shcx_1",
            thread_id=thread_id,
            owner=row.owner,
            type=models.ItemType.SDK_HIDDEN_CONTEXT,
            created_at=row.created_at,
            data={"id": "shcx_1", "type": "sdk_hidden_context"},
        )

    await stop_after_answer()
    await alice.stream("threads.add_user_message", thread_id=thread_id, input=user_input("and on"))
    assert (await alice.http.get(url, params={"thread_id": thread_id})).json()["stopped"] == [answer]

    await bob.http.get("/")
    theirs = await bob.http.get(url, params={"thread_id": thread_id})
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "not_found"
    assert (await bob.http.get(url, params={"thread_id": "thr_none"})).status_code == 404
    assert (await bob.http.get(url)).status_code == 400
    assert (await alice.http.post(url, params={"thread_id": thread_id})).status_code in (403, 405)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("**Markdown** is _great_", "Markdown is great"),
        ("# See [the docs](https://example.com) and `code`", "See the docs and code"),
        ("- first *point*", "first point"),
        ("snake_case_name and 2*3*4 stay", "snake_case_name and 2*3*4 stay"),
        ("---\nAfter a rule", "After a rule"),
    ],
)
def test_titles_are_plain_text(text, title):
    assert title_from_text(text) == title
