"""The request check covers every member of the SDK's ``ChatKitReq`` union.

A new request type in an SDK release fails ``test_every_request_type_has_a_rule``
until ``chat.protocol.RULES`` says how to check it, and this module says how
to send it.
"""

from __future__ import annotations

import json

import pytest
from agents.testing import assistant_message, function_call
from asgiref.sync import sync_to_async

from chat import models
from chat.protocol import RULES, request_types
from chat.store import new_id
from tests.helpers import user_input

pytestmark = pytest.mark.django_db(transaction=True)

ATTACHMENT = "atc_" + "f" * 32
MISSING_THREAD, MISSING_ATTACHMENT = "thr_" + "0" * 32, "atc_" + "0" * 32


def payloads(thread_id: str, user_item: str, widget_item: str) -> dict[str, dict]:
    """One request of every type, naming the given (someone else's) ids wherever it has one."""
    return {
        "threads.create": {"input": user_input("steal", attachments=[ATTACHMENT])},
        "threads.add_user_message": {"thread_id": thread_id, "input": user_input("hi")},
        "threads.add_client_tool_output": {"thread_id": thread_id, "result": {}},
        "threads.add_structured_input": {"thread_id": thread_id, "item_id": user_item, "input": {"answers": {}}},
        "threads.retry_after_item": {"thread_id": thread_id, "item_id": user_item},
        "threads.custom_action": {
            "thread_id": thread_id,
            "item_id": widget_item,
            "action": {"type": "chat.reply", "payload": {"text": "A"}},
        },
        "threads.sync_custom_action": {
            "thread_id": thread_id,
            "item_id": widget_item,
            "action": {"type": "chat.reply"},
        },
        "threads.get_by_id": {"thread_id": thread_id},
        "threads.list": {},
        "items.list": {"thread_id": thread_id},
        "items.feedback": {"thread_id": thread_id, "item_ids": [user_item], "kind": "positive"},
        "attachments.create": {"name": "a.txt", "size": 3, "mime_type": "text/plain"},
        "attachments.delete": {"attachment_id": ATTACHMENT},
        "threads.update": {"thread_id": thread_id, "title": "mine"},
        "threads.delete": {"thread_id": thread_id},
        "input.transcribe": {"audio_base64": "AAAA", "mime_type": "audio/webm"},
    }


def type_name(request_type) -> str:
    return request_type.model_fields["type"].default


def test_every_request_type_has_a_rule_and_a_payload_here():
    names = {type_name(t) for t in request_types()}
    assert set(RULES) == set(request_types()), "chat.protocol.RULES must name every ChatKitReq member"
    assert names == set(payloads("t", "i", "w")), "tests/test_protocol_rules.py must send every ChatKitReq member"


async def test_another_owners_ids_are_not_found_on_every_type(make_client, scripted):
    scripted.enqueue([function_call("show_quick_replies", {"question": "Q?", "options": ["A"]}, call_id="c1")])
    scripted.enqueue([assistant_message("shown", item_id=new_id("message"))])
    alice, mallory = make_client(), make_client()
    thread_id, events = await alice.new_thread("private")
    items = [e["item"] for e in events if e["type"] == "thread.item.done"]
    widget = next(i for i in items if i["type"] == "widget")
    owner = (await models.Thread.objects.aget(id=thread_id)).owner
    await sync_to_async(models.Attachment.objects.create)(
        id=ATTACHMENT,
        owner=owner,
        name="a.txt",
        mime_type="text/plain",
        data={"id": ATTACHMENT, "type": "file", "name": "a.txt", "mime_type": "text/plain"},
    )
    before = sorted([(i.id, i.data) async for i in models.Item.objects.filter(thread_id=thread_id)], key=str)

    for request_type in request_types():
        name, rule = type_name(request_type), RULES[request_type]
        params = payloads(thread_id, items[0]["id"], widget["id"])[name]
        response = await mallory.request(name, **params)
        if rule.unsupported:
            assert response.status_code == 400 and response.json()["error"]["code"] == "unsupported", name
            continue
        if not (rule.thread or rule.items or rule.attachments):
            assert response.status_code == 200, (name, response.text)  # nothing of alice's in it
            continue
        assert response.status_code == 404, (name, response.status_code, response.text)
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]["code"] == "not_found"
        # ...exactly like an id that doesn't exist at all.
        missing = json.loads(
            json.dumps(params).replace(thread_id, MISSING_THREAD).replace(ATTACHMENT, MISSING_ATTACHMENT)
        )
        assert (await mallory.request(name, **missing)).status_code == 404, name

    assert [t["id"] for t in (await alice.json("threads.list"))["data"]] == [thread_id]
    assert (await models.Thread.objects.aget(id=thread_id)).title == "private"
    after = sorted([(i.id, i.data) async for i in models.Item.objects.filter(thread_id=thread_id)], key=str)
    assert after == before and await models.Attachment.objects.filter(id=ATTACHMENT).aexists()


async def test_structured_input_for_an_item_that_is_not_one_is_400(client):
    thread_id, events = await client.new_thread("hello")
    user_item = events[1]["item"]["id"]
    response = await client.request(
        "threads.add_structured_input", thread_id=thread_id, item_id=user_item, input={"answers": {}}
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "wrong_item_type"


async def test_unknown_actions_and_bad_payloads_are_refused_before_streaming(client, scripted):
    scripted.enqueue([function_call("show_quick_replies", {"question": "Q?", "options": ["A"]}, call_id="c1")])
    scripted.enqueue([assistant_message("shown", item_id=new_id("message"))])
    thread_id, events = await client.new_thread("buttons please")
    widget = next(e["item"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "widget")
    for action, code, field in [
        ({"type": "nobody.handles.this"}, "unknown_action", None),
        ({"type": "chat.reply", "payload": "just a string"}, "invalid_action_payload", "params.action.payload"),
        ({"type": "chat.reply", "payload": {"text": ""}}, "invalid_action_payload", "params.action.payload.text"),
    ]:
        response = await client.request(
            "threads.custom_action", thread_id=thread_id, item_id=widget["id"], action=action
        )
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == code and (field is None or error["message"].startswith(field)), error


async def test_a_sync_action_in_a_locked_thread_is_400(client):
    thread_id, _ = await client.new_thread("hello")
    row = await models.Thread.objects.aget(id=thread_id)
    row.status, row.data = "locked", {**row.data, "status": {"type": "locked", "reason": "spam"}}
    await row.asave()
    response = await client.request("threads.sync_custom_action", thread_id=thread_id, action={"type": "chat.reply"})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "thread_not_active", "message": "This thread is locked: spam"}
