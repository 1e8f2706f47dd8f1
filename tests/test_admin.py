"""The admin shows threads written through the store, with a readable transcript."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.urls import reverse

from chat import models
from chat.store import DjangoStore
from tests.factories import assistant_message, client_tool_call, make_context, make_thread, user_message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conversation():
    """A thread with a user message, an answer and a client tool call, written through the store."""
    store, ctx = DjangoStore(), make_context()
    thread = make_thread("Trip to Lisbon")
    items = [
        user_message(thread.id, "Where should I eat in Alfama?"),
        assistant_message(thread.id, "Try **Taberna Sal Grosso**."),
        client_tool_call(thread.id),
    ]

    async def write():
        await store.save_thread(thread, ctx)
        for item in items:
            await store.add_thread_item(thread.id, item, ctx)

    async_to_sync(write)()
    models.Feedback.objects.create(thread_id=thread.id, item_id=items[1].id, owner=ctx.owner, kind="positive")
    return thread, items


def test_changelist_lists_and_searches_threads(admin_client, conversation):
    thread, _ = conversation
    url = reverse("admin:chat_thread_changelist")
    page = admin_client.get(url).content.decode()
    assert "Trip to Lisbon" in page and "anonymous (" in page
    assert ">3<" in page  # item count column

    for query in ("Lisbon", thread.id, "Alfama"):  # title, id, message text
        assert "Trip to Lisbon" in admin_client.get(url, {"q": query}).content.decode(), query
    assert "Trip to Lisbon" not in admin_client.get(url, {"q": "Porto"}).content.decode()
    assert "Trip to Lisbon" in admin_client.get(url, {"status__exact": "active"}).content.decode()
    assert "Trip to Lisbon" not in admin_client.get(url, {"status__exact": "locked"}).content.decode()


def test_item_search_matches_words_of_the_text_and_exact_ids(admin_client, conversation):
    thread, items = conversation
    url = reverse("admin:chat_item_changelist")

    def found(query: str) -> set[str]:
        page = admin_client.get(url, {"q": query}).content.decode()
        return {item.id for item in items if item.id in page}

    assert found("alfama") == {items[0].id}  # any case
    assert found("eat alfama") == {items[0].id}  # every word
    assert found('"should I eat"') == {items[0].id}  # a quoted phrase
    assert found("eat porto") == set()
    assert found(items[1].id) == {items[1].id}
    assert found(thread.id) == {item.id for item in items}
    assert found(items[1].id[:-1]) == set()  # ids match exactly, not as text


def test_thread_page_shows_the_transcript(admin_client, conversation):
    thread, items = conversation
    seq = models.Thread.objects.get(id=thread.id).seq
    page = admin_client.get(reverse("admin:chat_thread_change", args=[seq])).content.decode()
    user_at = page.index("Where should I eat in Alfama?")
    answer_at = page.index("Try <strong>Taberna Sal Grosso</strong>.")  # Markdown, rendered
    tool_at = page.index("<code>switch_theme</code> <span class='ck-status'>[pending]</span>")
    assert user_at < answer_at < tool_at
    assert "&quot;theme&quot;: &quot;dark&quot;" in page
    assert 'data-speaker="User"' in page and 'data-speaker="Assistant"' in page
    assert 'data-speaker="Client tool call"' in page
    assert "👍" in page


def test_lock_action_keeps_the_json_in_step(admin_client, conversation):
    thread, _ = conversation
    row = models.Thread.objects.get(id=thread.id)
    admin_client.post(
        reverse("admin:chat_thread_changelist"),
        {"action": "lock_threads", "_selected_action": [row.seq], "apply": "1", "reason": "Spam"},
    )
    row.refresh_from_db()
    assert row.status == "locked" and row.data["status"] == {"type": "locked", "reason": "Spam"}
    loaded = async_to_sync(DjangoStore().load_thread)(thread.id, make_context(row.owner))
    assert loaded.status.type == "locked"


def test_item_attachment_and_feedback_pages_render(admin_client, conversation):
    for name in ("item", "attachment", "feedback"):
        response = admin_client.get(reverse(f"admin:chat_{name}_changelist"))
        assert response.status_code == 200, name
    item = models.Item.objects.filter(type="assistant_message").first()
    page = admin_client.get(reverse("admin:chat_item_change", args=[item.seq])).content.decode()
    assert "Taberna Sal Grosso" in page


def test_dev_superuser_is_created_once_in_debug(settings, tmp_path, capsys):
    settings.DEBUG = True
    settings.BASE_DIR = tmp_path
    call_command("ensure_dev_superuser")
    password = (tmp_path / ".admin-password").read_text().strip()
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    # django-axes' backend needs the request (it counts failures per address).
    assert authenticate(RequestFactory().post("/admin/login/"), username="admin", password=password) is not None
    assert ".admin-password" in capsys.readouterr().out
    call_command("ensure_dev_superuser")
    from django.contrib.auth.models import User

    assert User.objects.filter(is_superuser=True).count() == 1


def test_no_dev_superuser_in_production(settings, tmp_path):
    settings.DEBUG = False
    settings.BASE_DIR = tmp_path
    call_command("ensure_dev_superuser")
    from django.contrib.auth.models import User

    assert not User.objects.exists() and not (tmp_path / ".admin-password").exists()
