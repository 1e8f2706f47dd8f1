"""Every ChatKit request type through the real ASGI application (``chatproject.asgi``).

The model is a ``ScriptedModel`` (exact answers) or the built-in echo model.
"""

from __future__ import annotations

import json

import pytest
from agents.models.fake_id import FAKE_RESPONSES_ID
from chatkit.types import SyncCustomActionResponse
from agents.testing import ModelStep, assistant_message, function_call

from chat import models
from chat.actions import action
from chat.store import new_id
from tests.helpers import assistant_text, user_input

pytestmark = pytest.mark.django_db(transaction=True)


def reply(text: str):
    """One scripted model turn answering ``text`` (with a real, unique message id)."""
    return [assistant_message(text, item_id=new_id("message"))]


async def items_of(thread_id: str) -> list[models.Item]:
    return [i async for i in models.Item.objects.filter(thread_id=thread_id).order_by("seq")]


# --- streaming requests ------------------------------------------------------------


async def test_threads_create_streams_and_persists(client, scripted):
    scripted.enqueue(reply("Hi! How can I help?"))
    thread_id, events = await client.new_thread("Plan a trip to Lisbon\nin spring")

    types = [e["type"] for e in events]
    assert types[0] == "thread.created"
    assert types[1] == "thread.item.done" and events[1]["item"]["type"] == "user_message"
    assert "stream_options" in types and "thread.item.added" in types
    assert assistant_text(events) == "Hi! How can I help?"
    updated = [e for e in events if e["type"] == "thread.updated"]
    assert updated[-1]["thread"]["title"] == "Plan a trip to Lisbon"

    stored = await items_of(thread_id)
    assert [i.type for i in stored] == ["user_message", "assistant_message"]
    assert stored[1].text == "Hi! How can I help?"
    thread = await models.Thread.objects.aget(id=thread_id)
    assert thread.title == "Plan a trip to Lisbon" and thread.owner.startswith("anon:")


async def test_second_turn_sees_the_first(client, scripted):
    scripted.enqueue(reply("Nice to meet you, Ada."))
    scripted.enqueue(reply("Your name is Ada."))
    thread_id, _ = await client.new_thread("My name is Ada.")
    events = await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("What is my name?"))

    assert assistant_text(events) == "Your name is Ada."
    sent = json.dumps(scripted.last_call.input)
    assert "My name is Ada." in sent and "Nice to meet you, Ada." in sent and "What is my name?" in sent
    # Earlier assistant text goes as a plain string (Chat Completions servers reject output_text parts).
    earlier = [m for m in scripted.last_call.input if m.get("role") == "assistant"]
    assert earlier and isinstance(earlier[0]["content"], str)


async def test_fake_ids_become_store_ids(client, scripted):
    scripted.enqueue([assistant_message("first", item_id=FAKE_RESPONSES_ID)])
    scripted.enqueue([assistant_message("second", item_id=FAKE_RESPONSES_ID)])
    thread_id, events = await client.new_thread("one")
    await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("two"))

    ids = {e.get("item", {}).get("id") or e.get("item_id") for e in events if e["type"].startswith("thread.item")}
    assert FAKE_RESPONSES_ID not in ids
    added = [e["item"]["id"] for e in events if e["type"] == "thread.item.added"]
    done = [
        e["item"]["id"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
    ]
    assert added == done
    answers = [i for i in await items_of(thread_id) if i.type == "assistant_message"]
    assert [a.text for a in answers] == ["first", "second"]
    assert len({a.id for a in answers}) == 2


async def test_echo_model_answers_by_default(client):
    thread_id, events = await client.new_thread("the quick brown fox")
    deltas = [
        e["update"]["delta"]
        for e in events
        if e["type"] == "thread.item.updated" and e["update"]["type"] == "assistant_message.content_part.text_delta"
    ]
    assert len(deltas) >= 4
    assert assistant_text(events) == "the quick brown fox"


async def test_retry_after_item_replaces_the_answer(client, scripted):
    scripted.enqueue(reply("a poor answer"))
    scripted.enqueue(reply("a better answer"))
    thread_id, events = await client.new_thread("question")
    user_item = events[1]["item"]["id"]

    events = await client.stream("threads.retry_after_item", thread_id=thread_id, item_id=user_item)
    assert assistant_text(events) == "a better answer"
    stored = await items_of(thread_id)
    assert [(i.type, i.text) for i in stored] == [
        ("user_message", "question"),
        ("assistant_message", "a better answer"),
    ]


async def test_custom_action_quick_reply_and_sync_dismiss(client, scripted):
    scripted.enqueue(
        [
            function_call(
                "show_quick_replies", {"question": "Which city?", "options": ["Lisbon", "Porto"]}, call_id="call_1"
            )
        ]
    )
    scripted.enqueue(reply("Porto it is."))
    thread_id, events = await client.new_thread("Suggest a city")
    widgets = [e["item"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "widget"]
    assert widgets, [e["type"] for e in events]
    widget = widgets[0]
    button = widget["widget"]["children"][1]["children"][1]
    assert button["label"] == "Porto"

    events = await client.stream(
        "threads.custom_action", thread_id=thread_id, item_id=widget["id"], action=button["onClickAction"]
    )
    assert assistant_text(events) == "Porto it is."
    texts = [(i.type, i.text) for i in await items_of(thread_id)]
    assert ("user_message", "Porto") in texts

    result = await client.json(
        "threads.sync_custom_action", thread_id=thread_id, item_id=widget["id"], action={"type": "test.dismiss"}
    )
    assert all(c["type"] != "Row" for c in result["updated_item"]["widget"]["children"])
    stored = await models.Item.objects.aget(thread_id=thread_id, id=widget["id"])
    assert all(c["type"] != "Row" for c in stored.data["widget"]["children"])


@action("test.dismiss", sync=True)
async def dismiss_buttons(ctx):
    """A sync action registered by a test: drops the sender widget's button rows and saves it."""
    root = ctx.sender.widget.model_dump(exclude_none=True)
    root["children"] = [c for c in root.get("children", []) if c.get("type") != "Row"]
    updated = ctx.sender.model_copy(update={"widget": type(ctx.sender.widget).model_validate(root)})
    await ctx.server.store.save_item(ctx.thread.id, updated, ctx.context)
    return SyncCustomActionResponse(updated_item=updated)


async def test_client_tool_call_and_its_output(client, scripted):
    scripted.enqueue([function_call("switch_theme", {"theme": "dark"}, call_id="call_theme")])
    scripted.enqueue(reply("Done, it is dark now."))
    thread_id, events = await client.new_thread("Switch to dark mode")
    calls = [e["item"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "client_tool_call"]
    assert calls and calls[0]["name"] == "switch_theme" and calls[0]["arguments"] == {"theme": "dark"}

    events = await client.stream("threads.add_client_tool_output", thread_id=thread_id, result={"theme": "dark"})
    assert assistant_text(events) == "Done, it is dark now."
    call = await models.Item.objects.aget(thread_id=thread_id, type="client_tool_call")
    assert call.data["status"] == "completed" and call.data["output"] == {"theme": "dark"}
    # Nothing is pending now: a second output is refused before streaming.
    response = await client.request("threads.add_client_tool_output", thread_id=thread_id, result={})
    assert response.status_code == 400 and response.json()["error"]["code"] == "no_pending_tool_call"


async def test_server_tool_reports_progress(client, scripted):
    scripted.enqueue([function_call("current_time", {"timezone": "Europe/Paris"}, call_id="call_t")])
    scripted.enqueue(reply("It is noon."))
    _, events = await client.new_thread("What time is it in Paris?")
    progress = [e for e in events if e["type"] == "progress_update"]
    assert progress and "Europe/Paris" in progress[0]["text"]
    assert assistant_text(events) == "It is noon."
    tool_output = json.dumps(scripted.last_call.input)
    assert "(Europe/Paris)" in tool_output


# --- non-streaming requests --------------------------------------------------------------


async def test_get_list_update_delete(client):
    first, _ = await client.new_thread("alpha one")
    second, _ = await client.new_thread("beta two")
    third, _ = await client.new_thread("gamma three")

    thread = await client.json("threads.get_by_id", thread_id=first)
    assert thread["title"] == "alpha one"
    assert [i["type"] for i in thread["items"]["data"]] == ["user_message", "assistant_message"]

    page = await client.json("threads.list", limit=2, order="desc")
    assert [t["id"] for t in page["data"]] == [third, second] and page["has_more"]
    page = await client.json("threads.list", limit=2, order="desc", after=page["after"])
    assert [t["id"] for t in page["data"]] == [first] and not page["has_more"]

    items = await client.json("items.list", thread_id=first, limit=1, order="asc")
    assert items["data"][0]["type"] == "user_message" and items["has_more"]
    items = await client.json("items.list", thread_id=first, limit=1, order="asc", after=items["after"])
    assert items["data"][0]["type"] == "assistant_message" and not items["has_more"]

    renamed = await client.json("threads.update", thread_id=first, title="Renamed")
    assert renamed["title"] == "Renamed"
    assert (await models.Thread.objects.aget(id=first)).title == "Renamed"

    assert await client.json("threads.delete", thread_id=second) == {}
    assert not await models.Thread.objects.filter(id=second).aexists()
    assert (await client.request("threads.get_by_id", thread_id=second)).status_code == 404


async def test_feedback_is_stored_and_latest_wins(client):
    thread_id, events = await client.new_thread("rate me")
    answer = [e["item"]["id"] for e in events if e["type"] == "thread.item.done"][-1]
    assert await client.json("items.feedback", thread_id=thread_id, item_ids=[answer], kind="negative") == {}
    assert await client.json("items.feedback", thread_id=thread_id, item_ids=[answer], kind="positive") == {}
    rows = [f async for f in models.Feedback.objects.all()]
    assert [(f.item_id, f.kind) for f in rows] == [(answer, "positive")]


# --- errors ---------------------------------------------------------------------------------


async def test_malformed_requests_are_400_with_json(client):
    for body in [
        b"{not json",
        b'{"type": "threads.explode", "params": {}}',
        b'{"type": "threads.get_by_id", "params": {}}',
        b"[]",
        b"",
    ]:
        response = await client.post(body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_request" and error["message"]
    response = await client.post({"type": "threads.get_by_id", "params": {}})
    assert "thread_id" in response.json()["error"]["message"]


async def test_method_size_and_csrf(client, settings):
    response = await client.http.get("/chatkit")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"

    settings.CHATKIT_MAX_REQUEST_BYTES = 200
    response = await client.request("threads.create", input=user_input("x" * 500))
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"

    response = await client.post({"type": "threads.list", "params": {}}, csrf=False)
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"


async def test_failing_model_is_an_error_event_and_retry_works(client, scripted):
    scripted.enqueue(ModelStep.raise_error(RuntimeError("GPU on fire")))
    scripted.enqueue(reply("recovered"))
    response = await client.request("threads.create", input=user_input("please answer"))
    assert response.status_code == 200
    from tests.helpers import sse_events

    events = sse_events(response.text)
    errors = [e for e in events if e["type"] == "error"]
    assert errors and errors[0]["allow_retry"] is True and "Retry" in errors[0]["message"]
    thread_id = events[0]["thread"]["id"]
    stored = await items_of(thread_id)
    assert [i.type for i in stored] == ["user_message"]

    events = await client.stream("threads.retry_after_item", thread_id=thread_id, item_id=stored[0].id)
    assert assistant_text(events) == "recovered"


async def test_locked_and_closed_threads_refuse_new_turns(client):
    thread_id, _ = await client.new_thread("hello")
    before = await models.Item.objects.filter(thread_id=thread_id).acount()
    for status in ({"type": "locked", "reason": "under review"}, {"type": "closed"}):
        row = await models.Thread.objects.aget(id=thread_id)
        row.status, row.data = status["type"], {**row.data, "status": status}
        await row.asave()
        user_item = (await items_of(thread_id))[0].id
        for type_, params in [
            ("threads.add_user_message", {"input": user_input("more")}),
            ("threads.retry_after_item", {"item_id": user_item}),
        ]:
            events = await client.stream(type_, thread_id=thread_id, **params)
            assert [e["type"] for e in events] == ["error"], events
            assert status["type"] in events[0]["message"] and events[0]["allow_retry"] is False
    assert await models.Item.objects.filter(thread_id=thread_id).acount() == before


async def test_a_silent_model_times_out_into_an_error_event(client, scripted, settings):
    import asyncio

    async def never_answers(call):
        await asyncio.sleep(30)
        yield  # pragma: no cover

    settings.CHATKIT_MODEL_TIMEOUT = 0.3
    scripted.enqueue(ModelStep.stream(never_answers))
    from tests.helpers import sse_events

    response = await client.request("threads.create", input=user_input("hello?"))
    events = sse_events(response.text)
    errors = [e for e in events if e["type"] == "error"]
    assert errors and "did not answer within 0.3 seconds" in errors[0]["message"] and errors[0]["allow_retry"]
    assert [i.type for i in await items_of(events[0]["thread"]["id"])] == ["user_message"]


async def test_a_refused_api_key_is_named_in_the_error_event(client, scripted):
    import httpx
    import openai

    request = httpx.Request("POST", "https://api.openai.com/v1/responses")
    scripted.enqueue(
        ModelStep.raise_error(
            openai.AuthenticationError("bad key", response=httpx.Response(401, request=request), body=None)
        )
    )
    from tests.helpers import sse_events

    events = sse_events((await client.request("threads.create", input=user_input("hi"))).text)
    assert any(e["type"] == "error" and "OPENAI_API_KEY" in e["message"] for e in events), events


async def test_an_unusable_model_setting_is_an_error_event(client, settings):
    settings.CHATKIT_MODEL = "openai-compatible:llama"
    settings.OPENAI_BASE_URL = ""
    from tests.helpers import sse_events

    events = sse_events((await client.request("threads.create", input=user_input("hi"))).text)
    error = next(e for e in events if e["type"] == "error")
    assert "OPENAI_BASE_URL" in error["message"] and error["allow_retry"] is False


async def test_the_page_gives_a_visitor_one_owner_for_concurrent_first_requests(client):
    """The built-in client lists threads while the user's first message goes out."""
    import asyncio

    page = await client.http.get("/")
    assert page.status_code == 200 and "csrftoken" in page.cookies
    created, listing = await asyncio.gather(
        client.request("threads.create", input=user_input("first")),
        client.request("threads.list"),
    )
    assert created.status_code == listing.status_code == 200
    # Neither request had to mint an owner (which each would do on its own).
    assert "chatkit_owner" in page.cookies
    for response in (created, listing):
        assert "chatkit_owner" not in response.cookies and "sessionid" not in response.cookies
    from tests.helpers import sse_events

    thread_id = sse_events(created.text)[0]["thread"]["id"]
    assert (await client.request("threads.get_by_id", thread_id=thread_id)).status_code == 200
