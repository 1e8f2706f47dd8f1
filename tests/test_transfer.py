"""Export and import: a round trip gives back an identical thread; a bad file writes nothing."""

from __future__ import annotations

import copy
import json

import pytest
from agents.testing import assistant_message, function_call
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command
from django.urls import reverse

from chat import models, transfer
from chat.moderation import set_status
from chat.store import new_id
from tests.helpers import user_input

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def rich_thread(client, scripted):
    """A thread with a tool call, a widget, an answer, feedback and a moderation record."""
    scripted.enqueue([function_call("show_quick_replies", {"question": "Which?", "options": ["A", "B"]}, call_id="c1")])
    thread_id, _ = await client.new_thread("Help me choose")  # the quick replies end this turn
    scripted.enqueue([assistant_message("Pick **one**.", item_id=new_id("message"))])
    await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("Which one?"))
    answer = await models.Item.objects.filter(thread_id=thread_id, type="assistant_message").afirst()
    await client.json("items.feedback", thread_id=thread_id, item_ids=[answer.id], kind="negative")
    await sync_to_async(set_status)([thread_id], "locked", "Under review", actor_name="admin")
    return thread_id


def export(thread_id: str) -> dict:
    document = transfer.export_threads(models.Thread.objects.filter(id=thread_id))
    document.pop("exported_at")
    return document


async def test_export_then_import_gives_back_an_identical_thread(rich_thread, tmp_path):
    before = await sync_to_async(export)(rich_thread)
    thread = before["threads"][0]
    assert [i["type"] for i in thread["items"]] == ["user_message", "widget", "user_message", "assistant_message"]
    assert thread["tool_calls"][0]["name"] == "show_quick_replies" and thread["feedback"][0]["kind"] == "negative"
    assert thread["moderation"][0]["reason"] == "Under review"

    path = tmp_path / "threads.json"
    await sync_to_async(call_command)("export_threads", rich_thread, output=str(path))
    await models.Thread.objects.filter(id=rich_thread).adelete()
    await sync_to_async(call_command)("import_threads", str(path))

    assert await sync_to_async(export)(rich_thread) == before


async def test_an_imported_thread_works_in_the_app(rich_thread, client, tmp_path):
    document = await sync_to_async(export)(rich_thread)
    await models.Thread.objects.filter(id=rich_thread).adelete()
    owner = await sync_to_async(lambda: document["threads"][0]["owner"])()
    await sync_to_async(transfer.import_threads)(document)
    loaded = await client.json("threads.get_by_id", thread_id=rich_thread)  # same client = same owner
    assert loaded["status"] == {"type": "locked", "reason": "Under review"} and owner.startswith("anon:")
    assert [i["type"] for i in loaded["items"]["data"]] == [
        "user_message",
        "widget",
        "user_message",
        "assistant_message",
    ]


@pytest.mark.parametrize(
    "break_it, message",
    [
        (lambda d: d.update(format="other"), "not a django-chatkit/threads file"),
        (lambda d: d.update(version=9), "version 9"),
        (lambda d: d["threads"][0]["items"][1].update(type="nonsense"), "threads[0].items[1]"),
        (lambda d: d["threads"][0]["items"][2].update(thread_id="thr_other"), "belongs to thread thr_other"),
        (lambda d: d["threads"][0]["thread"].pop("created_at"), "threads[0].thread"),
        (lambda d: d["threads"][0]["feedback"][0].update(item_id="nope"), "feedback[0]"),
        (lambda d: d["threads"][0].update(owner="user:99", username="ghost"), "user 'ghost'"),
    ],
)
def test_a_malformed_file_is_refused_and_writes_nothing(break_it, message):
    thread = models.Thread.objects.create(
        id="thr_keep",
        owner="anon:a",
        created_at="2026-01-01T00:00Z",
        data={"id": "thr_keep", "created_at": "2026-01-01T00:00:00Z", "status": {"type": "active"}},
    )
    models.Item.objects.create(
        id="m1",
        thread=thread,
        owner="anon:a",
        type="user_message",
        created_at="2026-01-01T00:00Z",
        data={
            "type": "user_message",
            "id": "m1",
            "thread_id": "thr_keep",
            "created_at": "2026-01-01T00:00:00Z",
            "content": [{"type": "input_text", "text": "hi"}],
            "attachments": [],
            "inference_options": {},
        },
    )
    for n in (2, 3):
        models.Item.objects.create(
            id=f"m{n}",
            thread=thread,
            owner="anon:a",
            type="assistant_message",
            created_at="2026-01-01T00:00Z",
            data={
                "type": "assistant_message",
                "id": f"m{n}",
                "thread_id": "thr_keep",
                "created_at": "2026-01-01T00:00:00Z",
                "content": [{"type": "output_text", "text": "yo", "annotations": []}],
            },
        )
    models.Feedback.objects.create(thread=thread, item_id="m2", owner="anon:a", kind="positive")
    good = transfer.export_threads(models.Thread.objects.all())
    good["threads"][0]["thread"]["id"] = good["threads"][0]["id"] = "thr_new"
    for item in good["threads"][0]["items"]:
        item["thread_id"] = "thr_new"
    bad = copy.deepcopy(good)
    break_it(bad)
    with pytest.raises(transfer.ImportRefused, match=message.replace("[", r"\[").replace("]", r"\]")):
        transfer.import_threads(bad)
    assert list(models.Thread.objects.values_list("id", flat=True)) == ["thr_keep"]
    assert models.Item.objects.count() == 3
    transfer.import_threads(good)  # the unbroken file loads
    assert models.Item.objects.filter(thread_id="thr_new").count() == 3


def test_a_conflicting_file_is_refused_by_the_command(tmp_path):
    models.Thread.objects.create(
        id="thr_a",
        owner="anon:a",
        created_at="2026-01-01T00:00Z",
        data={"id": "thr_a", "created_at": "2026-01-01T00:00:00Z", "status": {"type": "active"}},
    )
    path = tmp_path / "a.json"
    path.write_text(transfer.dumps(transfer.export_threads(models.Thread.objects.all())))
    with pytest.raises(CommandError, match="thread thr_a already exists here.*Nothing was imported"):
        call_command("import_threads", str(path))
    path.write_text("{not json")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("import_threads", str(path))
    assert models.Thread.objects.count() == 1


async def test_the_admin_exports_json_and_markdown(rich_thread, admin_client):
    seq = (await models.Thread.objects.aget(id=rich_thread)).seq
    url = reverse("admin:chat_thread_changelist")
    as_json = await sync_to_async(admin_client.post)(url, {"action": "export_json", "_selected_action": [seq]})
    assert as_json["Content-Type"] == "application/json" and "attachment;" in as_json["Content-Disposition"]
    assert json.loads(as_json.content)["threads"][0]["id"] == rich_thread
    as_md = await sync_to_async(admin_client.post)(url, {"action": "export_markdown", "_selected_action": [seq]})
    text = as_md.content.decode()
    assert text.startswith("# Help me choose") and "### Server tool call" in text and "Pick **one**." in text
    assert "status: locked (Under review)" in text and "feedback: negative" in text
