"""On PostgreSQL: the store's hot queries and the admin's message search use their indexes.

Checked with ``EXPLAIN`` on a few tens of thousands of rows after ``ANALYZE``,
so the planner chooses as it would in production (on a handful of rows it
always scans). Skipped on SQLite.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import models
from chat.store import DjangoStore, dump_item, dump_thread
from tests.factories import make_context, make_thread, user_message

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only (DATABASE_URL=postgres://…)"),
]

THREADS, ITEMS, OWNERS = 2000, 20000, 100


@pytest.fixture
def filled():
    """One real owner's thread with 30 items, among many other owners' rows; returns (context, thread id)."""
    store, ctx = DjangoStore(), make_context()
    thread = make_thread("Real")
    store._save_thread(thread, ctx)
    for i in range(30):
        store._upsert_item(thread.id, user_message(thread.id, f"message {i}"), ctx)
    thread_json = json.dumps(dump_thread(make_thread("Filler")))
    item_json = json.dumps(dump_item(user_message(thread.id, "filler")))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO chat_thread (id, owner, title, status, created_at, updated_at, data)"
            " SELECT 'thr_fill_' || g, 'anon:fill' || (g %% %s), '', 'active', now(), now(), %s::jsonb"
            " FROM generate_series(1, %s) g",
            [OWNERS, thread_json, THREADS],
        )
        cursor.execute(
            "INSERT INTO chat_item (id, thread_id, owner, type, created_at, text, data)"
            " SELECT 'msg_fill_' || g, 'thr_fill_' || (g %% %s + 1), 'anon:fill' || ((g %% %s + 1) %% %s),"
            " 'user_message', now(), md5(g::text), %s::jsonb"
            " FROM generate_series(1, %s) g",
            [THREADS, THREADS, OWNERS, item_json, ITEMS],
        )
        cursor.execute("ANALYZE chat_thread")
        cursor.execute("ANALYZE chat_item")
    return store, ctx, thread.id


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def captured(call) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        call()
    return [q["sql"] for q in queries.captured_queries]


def test_json_columns_are_jsonb(filled):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, data_type FROM information_schema.columns"
            " WHERE column_name = 'data' AND table_name LIKE 'chat_%%' ORDER BY table_name"
        )
        assert cursor.fetchall() == [("chat_attachment", "jsonb"), ("chat_item", "jsonb"), ("chat_thread", "jsonb")]


def test_a_page_of_items_reads_the_thread_seq_index(filled):
    store, ctx, thread_id = filled
    first = store._load_thread_items(thread_id, None, 10, "desc", ctx)
    (sql,) = captured(lambda: store._load_thread_items(thread_id, first.after, 10, "desc", ctx))
    text = plan(sql)
    assert "chat_item_thread_seq" in text or "chat_item_unique_per_thread" in text, text
    assert "Seq Scan" not in text, text


def test_a_page_of_threads_reads_the_owner_activity_index(filled):
    store, ctx, _ = filled
    other = make_context("anon:fill7")
    first = store._load_threads(5, None, "desc", other)
    assert first.has_more
    (sql,) = captured(lambda: store._load_threads(5, first.after, "desc", other))
    text = plan(sql)
    assert "chat_thread_owner_activity" in text, text  # threads are listed by last activity
    assert "Seq Scan" not in text, text


def test_the_admins_message_search_reads_the_trigram_index(filled, admin_client):
    # The admin's own query for ?q= on the items list (ItemAdmin.search_fields, "text").
    store, ctx, thread_id = filled
    store._upsert_item(thread_id, user_message(thread_id, "where is the Zebracorn?"), ctx)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE chat_item")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/chat/item/", {"q": "zebracorn"})
    assert response.status_code == 200
    assert b"Zebracorn" in response.content or "1 result" in response.content.decode()
    searches = [q["sql"] for q in queries.captured_queries if "LIKE" in q["sql"] and "chat_item" in q["sql"]]
    assert searches
    text = plan(searches[-1])
    assert "chat_item_text_trgm" in text, text
    assert not models.Item.objects.filter(text__icontains="zebracorn").exclude(thread_id=thread_id).exists()
