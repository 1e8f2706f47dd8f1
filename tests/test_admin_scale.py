"""The admin stays fast: a fixed number of queries per page however many rows there are.

Measured with Django's query capture (not timers): every changelist at 10,000
threads runs exactly as many queries as at a handful, and a thread page with
2,000 items as many as one with 10 (its transcript is paginated, newest first).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from chat import models

pytestmark = pytest.mark.django_db

CHANGELISTS = ("thread", "item", "attachment", "feedback", "servertoolcall", "moderationevent")


def populate(threads: int, items_per_thread: int = 2, owner_users=None) -> list[models.Thread]:
    """``threads`` threads with items, feedback, an attachment, a tool call and a moderation event each."""
    now = timezone.now()
    base = models.Thread.objects.count()
    rows = models.Thread.objects.bulk_create(
        models.Thread(
            id=f"thr_{base + n:032x}",
            owner=f"anon:o{n % 50}",
            title=f"Thread {base + n}",
            created_at=now - timedelta(minutes=n),
            updated_at=now - timedelta(minutes=n),
            data={"id": f"thr_{base + n:032x}", "created_at": now.isoformat(), "status": {"type": "active"}},
        )
        for n in range(threads)
    )
    items, feedback, attachments, calls, events = [], [], [], [], []
    for t in rows:
        for k in range(items_per_thread):
            kind = "user_message" if k % 2 == 0 else "assistant_message"
            data = (
                {
                    "type": kind,
                    "id": f"m{k}",
                    "thread_id": t.id,
                    "created_at": now.isoformat(),
                    "content": [{"type": "input_text", "text": f"question {k}"}],
                    "attachments": [],
                    "inference_options": {"model": "echo"},
                }
                if kind == "user_message"
                else {
                    "type": kind,
                    "id": f"m{k}",
                    "thread_id": t.id,
                    "created_at": now.isoformat(),
                    "content": [{"type": "output_text", "text": f"**answer** {k}", "annotations": []}],
                }
            )
            items.append(
                models.Item(
                    id=f"m{k}",
                    thread_id=t.id,
                    owner=t.owner,
                    type=kind,
                    created_at=now + timedelta(microseconds=k),
                    text=f"text {k}",
                    data=data,
                )
            )
        feedback.append(models.Feedback(thread_id=t.id, item_id="m1", owner=t.owner, kind="positive"))
        attachments.append(
            models.Attachment(
                id=f"atc_{t.id}", owner=t.owner, thread_id=t.id, name="a.txt", mime_type="text/plain", data={}
            )
        )
        calls.append(
            models.ServerToolCall(
                thread_id=t.id,
                owner=t.owner,
                name="current_time",
                arguments="{}",
                output="noon",
                created_at=now,
                finished_at=now,
            )
        )
        events.append(
            models.ModerationEvent(
                thread_id=t.id, status_from="active", status_to="active", actor_name="test", created_at=now
            )
        )
    for model, batch in (
        (models.Item, items),
        (models.Feedback, feedback),
        (models.Attachment, attachments),
        (models.ServerToolCall, calls),
        (models.ModerationEvent, events),
    ):
        model.objects.bulk_create(batch, batch_size=2000)
    return rows


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def test_every_changelist_runs_the_same_queries_at_10000_threads(admin_client):
    populate(5)
    urls = [reverse(f"admin:chat_{name}_changelist") for name in CHANGELISTS]
    urls += [reverse("admin:chat_thread_changelist") + "?q=question", reverse("admin:chat_feedback_chart")]
    small = {url: queries_for(admin_client, url) for url in urls}
    populate(10_000 - 5)
    assert models.Thread.objects.count() == 10_000
    large = {url: queries_for(admin_client, url) for url in urls}
    assert large == small, "a changelist's query count grew with the rows"
    assert max(large.values()) <= 12, large


def test_a_2000_item_thread_page_runs_as_many_queries_as_a_10_item_one(admin_client, django_assert_max_num_queries):
    (short,) = populate(1, items_per_thread=10)
    (long,) = populate(1, items_per_thread=2000)
    short_count = queries_for(admin_client, reverse("admin:chat_thread_change", args=[short.seq]))
    url = reverse("admin:chat_thread_change", args=[long.seq])
    with django_assert_max_num_queries(short_count):
        page = admin_client.get(url).content.decode()
    # Newest page first, 50 items of 2,000, links to earlier pages, raw items one click away.
    assert "question 1998" in page and "answer</strong> 1999" in page and "question 0<" not in page
    assert page.count('class="chat-line') == 50
    assert "Page 1 of 40" in page and "?page=2" in page
    assert reverse("admin:chat_item_changelist") + f"?thread={long.id}" in page
    earlier = admin_client.get(url + "?page=40").content.decode()
    assert "question 0<" in earlier and "question 1998" not in earlier
    # The thread's tool call ran before its first item: it shows on the oldest page only.
    assert earlier.count('class="chat-line') == 51 and "<code>current_time</code>" in earlier
    assert "<code>current_time</code>" not in page


def test_the_thread_list_orders_by_last_activity_and_links_owners(admin_client):
    old, new = populate(2)
    models.Thread.objects.filter(id=old.id).update(updated_at=timezone.now() + timedelta(hours=1))
    page = admin_client.get(reverse("admin:chat_thread_changelist")).content.decode()
    assert page.index(old.title) < page.index(new.title)
    assert f"?owner={old.owner.replace(':', '%3A')}" in page
    filtered = admin_client.get(reverse("admin:chat_thread_changelist"), {"owner": new.owner}).content.decode()
    assert new.title in filtered and old.title not in filtered
