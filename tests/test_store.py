"""The ``DjangoStore`` against the ``chatkit.store.Store`` contract, on the real database.

Async store methods hop to a worker thread with its own database connection,
so these tests use ``transaction=True`` (rows are really committed, then
flushed) rather than the default wrapping transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from chatkit.store import NotFoundError
from chatkit.types import LockedStatus, Page, Thread
from django.utils import timezone

from chat import models
from chat.attachments import DjangoAttachmentStore
from chat.store import DjangoStore
from tests.factories import (
    assistant_message,
    client_tool_call,
    file_attachment,
    make_context,
    make_thread,
    user_message,
    workflow,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store() -> DjangoStore:
    return DjangoStore()


async def _thread_with_items(store, ctx, count: int):
    thread = make_thread("paging")
    await store.save_thread(thread, ctx)
    ids = []
    for i in range(count):
        item = user_message(thread.id, f"message {i}")
        await store.add_thread_item(thread.id, item, ctx)
        ids.append(item.id)
    return thread, ids


# --- threads ----------------------------------------------------------------


async def test_thread_round_trip_is_aware_and_drops_items(store):
    ctx = make_context()
    naive = datetime(2026, 1, 2, 3, 4, 5)
    full = Thread(id="thr_" + "a" * 32, title="Hello", created_at=naive, items=Page(data=[]))
    await store.save_thread(full, ctx)

    loaded = await store.load_thread(full.id, ctx)
    assert loaded.title == "Hello"
    assert type(loaded).__name__ == "ThreadMetadata"
    assert loaded.created_at.tzinfo is not None
    row = await models.Thread.objects.aget(id=full.id)
    assert "items" not in row.data
    assert row.created_at == timezone.make_aware(naive)


async def test_save_thread_is_an_upsert(store):
    ctx = make_context()
    thread = make_thread("first")
    await store.save_thread(thread, ctx)
    thread.title = "second"
    thread.status = LockedStatus(reason="maintenance")
    await store.save_thread(thread, ctx)

    assert await models.Thread.objects.acount() == 1
    loaded = await store.load_thread(thread.id, ctx)
    assert loaded.title == "second"
    assert loaded.status.type == "locked"
    assert (await models.Thread.objects.aget(id=thread.id)).status == "locked"


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_load_threads_pages_in_both_orders(store, order):
    ctx = make_context()
    created = []
    for i in range(5):
        thread = make_thread(f"t{i}")
        await store.save_thread(thread, ctx)
        created.append(thread.id)
    expected = created if order == "asc" else created[::-1]

    seen, after = [], None
    while True:
        page = await store.load_threads(2, after, order, ctx)
        seen.extend(t.id for t in page.data)
        if not page.has_more:
            assert page.after is None
            break
        assert page.after == page.data[-1].id
        after = page.after
    assert seen == expected

    everything = await store.load_threads(50, None, order, ctx)
    assert [t.id for t in everything.data] == expected and not everything.has_more


# --- items --------------------------------------------------------------------


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_load_thread_items_cursor_contract(store, order):
    ctx = make_context()
    thread, ids = await _thread_with_items(store, ctx, 6)
    expected = ids if order == "asc" else ids[::-1]

    # after = None (start), limit 1
    page = await store.load_thread_items(thread.id, None, 1, order, ctx)
    assert [i.id for i in page.data] == expected[:1]
    assert page.has_more and page.after == expected[0]

    # after in the middle
    page = await store.load_thread_items(thread.id, expected[2], 2, order, ctx)
    assert [i.id for i in page.data] == expected[3:5]
    assert page.has_more and page.after == expected[4]

    # the last page: exactly the rest
    page = await store.load_thread_items(thread.id, expected[3], 2, order, ctx)
    assert [i.id for i in page.data] == expected[4:6]
    assert not page.has_more and page.after is None

    # after the very last item: empty
    page = await store.load_thread_items(thread.id, expected[-1], 3, order, ctx)
    assert page.data == [] and not page.has_more and page.after is None

    # a limit larger than the thread
    page = await store.load_thread_items(thread.id, None, 100, order, ctx)
    assert [i.id for i in page.data] == expected and not page.has_more


async def test_identical_timestamps_keep_insertion_order(store):
    ctx = make_context()
    thread = make_thread()
    await store.save_thread(thread, ctx)
    stamp = datetime(2026, 5, 5, 12, 0, 0)
    ids = []
    for i in range(25):
        maker = user_message if i % 2 == 0 else assistant_message
        item = maker(thread.id, f"m{i}", created_at=stamp)
        await store.add_thread_item(thread.id, item, ctx)
        ids.append(item.id)

    asc = await store.load_thread_items(thread.id, None, 100, "asc", ctx)
    assert [i.id for i in asc.data] == ids
    newest = await store.load_thread_items(thread.id, None, 1, "desc", ctx)
    assert newest.data[0].id == ids[-1]


async def test_items_are_upserts_and_keep_their_place(store):
    ctx = make_context()
    thread = make_thread()
    await store.save_thread(thread, ctx)
    flow = workflow(thread.id)
    call = client_tool_call(thread.id)
    answer = assistant_message(thread.id, "draft")
    for item in (flow, call, answer):
        await store.add_thread_item(thread.id, item, ctx)

    # The SDK adds the same workflow item twice, and saves items again.
    await store.add_thread_item(thread.id, flow, ctx)
    call.status, call.output = "completed", {"ok": True}
    await store.save_item(thread.id, call, ctx)
    answer.content[0].text = "final"
    await store.save_item(thread.id, answer, ctx)

    page = await store.load_thread_items(thread.id, None, 10, "asc", ctx)
    assert [i.id for i in page.data] == [flow.id, call.id, answer.id]
    assert page.data[1].status == "completed" and page.data[1].output == {"ok": True}
    assert page.data[2].content[0].text == "final"
    assert await models.Item.objects.acount() == 3


async def test_load_and_delete_item(store):
    ctx = make_context()
    thread = make_thread()
    await store.save_thread(thread, ctx)
    item = user_message(thread.id, "hello")
    await store.add_thread_item(thread.id, item, ctx)

    loaded = await store.load_item(thread.id, item.id, ctx)
    assert loaded.content[0].text == "hello"
    assert loaded.created_at.tzinfo is not None

    await store.delete_thread_item(thread.id, item.id, ctx)
    with pytest.raises(NotFoundError):
        await store.load_item(thread.id, item.id, ctx)
    with pytest.raises(NotFoundError):
        await store.delete_thread_item(thread.id, item.id, ctx)


async def test_missing_thread_raises_not_found(store):
    ctx = make_context()
    with pytest.raises(NotFoundError):
        await store.load_thread("thr_missing", ctx)
    with pytest.raises(NotFoundError):
        await store.load_thread_items("thr_missing", None, 10, "asc", ctx)
    with pytest.raises(NotFoundError):
        await store.add_thread_item("thr_missing", user_message("thr_missing", "x"), ctx)
    with pytest.raises(NotFoundError):
        await store.delete_thread("thr_missing", ctx)


# --- attachments ----------------------------------------------------------------


async def test_attachment_upsert_with_thread_id(store):
    ctx = make_context()
    thread = make_thread()
    await store.save_thread(thread, ctx)
    attachment = file_attachment()
    await store.save_attachment(attachment, ctx)
    # The server re-saves it with its thread id once the message is sent.
    await store.save_attachment(attachment.model_copy(update={"thread_id": thread.id}), ctx)

    loaded = await store.load_attachment(attachment.id, ctx)
    assert loaded.thread_id == thread.id and loaded.name == "notes.txt"
    assert await models.Attachment.objects.acount() == 1

    await DjangoAttachmentStore().delete_attachment(attachment.id, ctx)
    await store.delete_attachment(attachment.id, ctx)
    with pytest.raises(NotFoundError):
        await store.load_attachment(attachment.id, ctx)


# --- owner isolation ------------------------------------------------------------------


async def test_another_owner_sees_nothing_on_every_method(store):
    alice, mallory = make_context(), make_context()
    thread, ids = await _thread_with_items(store, alice, 3)
    attachment = file_attachment(thread.id)
    await store.save_attachment(attachment, alice)
    item = await store.load_item(thread.id, ids[0], alice)

    calls = [
        store.load_thread(thread.id, mallory),
        store.load_thread_items(thread.id, None, 10, "asc", mallory),
        store.load_item(thread.id, ids[0], mallory),
        store.add_thread_item(thread.id, user_message(thread.id, "intrusion"), mallory),
        store.save_item(thread.id, item, mallory),
        store.delete_thread_item(thread.id, ids[0], mallory),
        store.delete_thread(thread.id, mallory),
        store.save_thread(thread, mallory),
        store.load_attachment(attachment.id, mallory),
        store.save_attachment(attachment, mallory),
        store.delete_attachment(attachment.id, mallory),
        DjangoAttachmentStore().delete_attachment(attachment.id, mallory),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            await call

    assert (await store.load_threads(10, None, "desc", mallory)).data == []
    # Alice's data is untouched.
    page = await store.load_thread_items(thread.id, None, 10, "asc", alice)
    assert [i.id for i in page.data] == ids
    assert (await store.load_thread(thread.id, alice)).title == "paging"
    assert (await store.load_attachment(attachment.id, alice)).id == attachment.id


# --- deletes ----------------------------------------------------------------------------


async def test_delete_thread_cascades_items_attachments_feedback_and_bytes(store, settings, tmp_path):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    ctx = make_context()
    thread, ids = await _thread_with_items(store, ctx, 3)
    attachment = file_attachment(thread.id)
    await store.save_attachment(attachment, ctx)
    row = await models.Attachment.objects.aget(id=attachment.id)
    await _save_file(row, ContentFile(b"hello", name="notes.txt"))
    stored_path = tmp_path / row.file.name
    assert stored_path.exists()
    await models.Feedback.objects.acreate(thread_id=thread.id, item_id=ids[0], owner=ctx.owner, kind="positive")
    other = make_thread("keep me")
    await store.save_thread(other, ctx)

    await store.delete_thread(thread.id, ctx)

    assert not await models.Thread.objects.filter(id=thread.id).aexists()
    assert await models.Item.objects.acount() == 0
    assert await models.Attachment.objects.acount() == 0
    assert await models.Feedback.objects.acount() == 0
    assert not stored_path.exists()
    assert (await store.load_thread(other.id, ctx)).title == "keep me"


async def _save_file(row, content):
    from asgiref.sync import sync_to_async

    await sync_to_async(row.file.save)(content.name, content, save=True)


# --- query counts ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 300])
def test_loading_a_page_costs_the_same_queries_at_any_length(django_assert_num_queries, size):
    """Each store call runs as one sync function; call that function directly to count."""
    store = DjangoStore()
    ctx = make_context()
    thread = make_thread()
    store._save_thread(thread, ctx)
    stamp = timezone.now() - timedelta(days=1)
    models.Item.objects.bulk_create(
        models.Item(
            id=f"msg_{i:05d}",
            thread_id=thread.id,
            owner=ctx.owner,
            type="user_message",
            created_at=stamp,
            data=user_message(thread.id, f"m{i}", created_at=stamp)
            .model_copy(update={"id": f"msg_{i:05d}"})
            .model_dump(mode="json"),
        )
        for i in range(size)
    )
    fresh = make_context(ctx.owner)  # nothing cached: the ownership check is counted
    with django_assert_num_queries(2):
        page = store._load_thread_items(thread.id, "msg_00002", 20, "desc", fresh)
    assert [i.id for i in page.data] == ["msg_00001", "msg_00000"]
    with django_assert_num_queries(1):
        store._load_thread_items(thread.id, None, 20, "asc", fresh)
    with django_assert_num_queries(1):
        store._load_threads(20, thread.id, "asc", fresh)
