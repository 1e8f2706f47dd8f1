"""Moderation: lock, close and reopen with a reason, on the record, and the reason reaches the user."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from chat import models
from chat.moderation import set_status
from tests.helpers import user_input

pytestmark = pytest.mark.django_db(transaction=True)


def changelist_action(admin_client, action: str, threads, **data):
    return admin_client.post(
        reverse("admin:chat_thread_changelist"),
        {"action": action, "_selected_action": [t.seq for t in threads], **data},
    )


async def test_a_locked_thread_refuses_with_its_reason_and_keeps_the_record(client, admin_client):
    first, _ = await client.new_thread("one")
    second, _ = await client.new_thread("two")
    threads = await sync_to_async(list)(models.Thread.objects.filter(id__in=[first, second]).order_by("seq"))

    # The action asks for the reason first and changes nothing until it has one.
    asked = await sync_to_async(changelist_action)(admin_client, "lock_threads", threads)
    assert asked.status_code == 200 and b'name="reason"' in asked.content
    refused = await sync_to_async(changelist_action)(admin_client, "lock_threads", threads, apply="1", reason="")
    assert b"Give a reason" in refused.content
    assert await models.Thread.objects.filter(status="locked").acount() == 0

    done = await sync_to_async(changelist_action)(admin_client, "lock_threads", threads, apply="1", reason="Spam links")
    assert done.status_code == 302
    assert await models.Thread.objects.filter(status="locked").acount() == 2

    # The user sees the reason: in the thread's status and in the refusal of a new turn.
    thread = await client.json("threads.get_by_id", thread_id=first)
    assert thread["status"] == {"type": "locked", "reason": "Spam links"}
    events = await client.stream("threads.add_user_message", thread_id=first, input=user_input("hello?"))
    assert events[-1]["type"] == "error" and events[-1]["message"] == "This thread is locked: Spam links"
    assert await models.Item.objects.filter(thread_id=first).acount() == 2  # nothing was added

    reopened = await sync_to_async(changelist_action)(
        admin_client, "reopen_threads", threads[:1], apply="1", reason="Appeal accepted"
    )
    assert reopened.status_code == 302
    events = await client.stream("threads.add_user_message", thread_id=first, input=user_input("hello again"))
    assert events[-1]["type"] != "error", events[-1]

    record = await sync_to_async(list)(
        models.ModerationEvent.objects.filter(thread_id=first).order_by("created_at", "id")
    )
    assert [(e.status_from, e.status_to, e.reason, e.actor_name) for e in record] == [
        ("active", "locked", "Spam links", "admin"),
        ("locked", "active", "Appeal accepted", "admin"),
    ]
    page = (
        await sync_to_async(admin_client.get)(reverse("admin:chat_thread_change", args=[threads[0].seq]))
    ).content.decode()
    assert "locked → active" in page and "Appeal accepted" in page and "Spam links" in page


def test_the_thread_form_needs_a_reason_to_close_and_records_it(admin_client):
    thread = models.Thread.objects.create(
        id="thr_form",
        owner="anon:x",
        title="t",
        created_at="2026-01-01T00:00Z",
        data={"id": "thr_form", "created_at": "2026-01-01T00:00:00Z", "status": {"type": "active"}},
    )
    url = reverse("admin:chat_thread_change", args=[thread.seq])
    refused = admin_client.post(url, {"title": "t", "status": "closed", "moderation_reason": ""})
    assert refused.status_code == 200 and b"Give a reason" in refused.content
    admin_client.post(url, {"title": "t", "status": "closed", "moderation_reason": "Resolved by support"})
    thread.refresh_from_db()
    assert thread.status == "closed" and thread.data["status"] == {"type": "closed", "reason": "Resolved by support"}
    assert models.ModerationEvent.objects.get(thread=thread).reason == "Resolved by support"


def test_setting_the_same_status_again_records_nothing():
    models.Thread.objects.create(
        id="thr_same",
        owner="anon:x",
        created_at="2026-01-01T00:00Z",
        data={"id": "thr_same", "created_at": "2026-01-01T00:00:00Z", "status": {"type": "active"}},
    )
    assert set_status(["thr_same"], "locked", "why", actor_name="cron") == 1
    assert set_status(["thr_same"], "locked", "why", actor_name="cron") == 0
    assert models.ModerationEvent.objects.count() == 1
    with pytest.raises(ValueError):
        set_status(["thr_same"], "banned")
