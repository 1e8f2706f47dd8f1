"""Retention (``purge_threads``), thread activity, and ``manage.py chat`` from a pipe."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from chat import models
from tests.helpers import user_input
from tests.servers import PROJECT, server_env

pytestmark = pytest.mark.django_db(transaction=True)


def make_thread(thread_id: str, days_idle: float) -> models.Thread:
    at = timezone.now() - timedelta(days=days_idle)
    thread = models.Thread.objects.create(
        id=thread_id,
        owner="anon:a",
        title=thread_id,
        created_at=at,
        updated_at=at,
        data={"id": thread_id, "created_at": at.isoformat(), "status": {"type": "active"}},
    )
    models.Item.objects.create(id="m1", thread=thread, owner="anon:a", type="user_message", created_at=at, data={})
    models.Feedback.objects.create(thread=thread, item_id="m1", owner="anon:a", kind="positive")
    attachment = models.Attachment(
        id=f"atc_{thread_id}", owner="anon:a", thread=thread, name="n.txt", mime_type="text/plain", data={}
    )
    attachment.file.save("n.txt", ContentFile(b"12345"), save=True)
    return thread


def test_purge_dry_run_deletes_nothing_and_the_real_run_deletes_old_threads(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    make_thread("thr_old", days_idle=40)
    make_thread("thr_new", days_idle=2)
    old_file = models.Attachment.objects.get(id="atc_thr_old").file.name
    expired = SessionStore()
    expired.set_expiry(-10)
    expired.create()

    out = StringIO()
    call_command("purge_threads", older_than=30, dry_run=True, stdout=out)
    text = out.getvalue()
    assert "Would delete 1 thread(s)" in text and "1 item(s), 1 attachment(s), 5 byte(s)" in text and "thr_old" in text
    assert "thr_new" not in text and "Would clear 1 expired session(s)" in text
    assert models.Thread.objects.count() == 2 and models.Item.objects.count() == 2 and Session.objects.count() == 1
    assert (tmp_path / old_file).exists()

    call_command("purge_threads", older_than=30, stdout=StringIO())
    assert list(models.Thread.objects.values_list("id", flat=True)) == ["thr_new"]
    assert (
        models.Item.objects.count() == 1
        and models.Feedback.objects.count() == 1
        and models.Attachment.objects.count() == 1
    )
    assert not (tmp_path / old_file).exists() and Session.objects.count() == 0


async def test_updated_at_follows_every_new_item(client):
    thread_id, _ = await client.new_thread("first")
    created = await models.Thread.objects.aget(id=thread_id)
    await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("second"))
    later = await models.Thread.objects.aget(id=thread_id)
    newest_item = await models.Item.objects.filter(thread_id=thread_id).order_by("-seq").afirst()
    assert later.updated_at > created.updated_at and later.updated_at >= newest_item.created_at


async def test_threads_list_by_last_activity_pages_stably(client):
    ids = [(await client.new_thread(f"thread {n}"))[0] for n in range(5)]
    await client.stream("threads.add_user_message", thread_id=ids[1], input=user_input("bump"))
    # Two threads with the very same activity time keep a fixed order (seq breaks the tie).
    same = timezone.now() - timedelta(days=1)
    await models.Thread.objects.filter(id__in=[ids[3], ids[4]]).aupdate(updated_at=same)
    expected = [ids[1], ids[2], ids[0], ids[4], ids[3]]
    seen, after = [], None
    while True:
        page = await client.json("threads.list", limit=2, order="desc", **({"after": after} if after else {}))
        seen += [t["id"] for t in page["data"]]
        if not page["has_more"]:
            break
        after = page["after"]
    assert seen == expected


def run_chat(env, text: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "chat", *args],
        input=text,
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env=env,
        timeout=120,
    )


def test_manage_py_chat_from_a_pipe(tmp_path):
    database = tmp_path / "cli.sqlite3"
    env = server_env(f"sqlite:///{database}")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=PROJECT, env=env, check=True)

    first = run_chat(env, "hello from a pipe\nand a second line\n", "--owner", "cli:tester")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["hello from a pipe", "and a second line"]  # the echo model's answers
    thread_id = re.search(r"thread (thr_\w+)", first.stderr).group(1)

    again = run_chat(env, "one more\n", "--owner", "cli:tester", "--thread", thread_id)
    assert again.returncode == 0 and again.stdout.strip() == "one more"
    stranger = run_chat(env, "let me in\n", "--owner", "cli:someone-else", "--thread", thread_id)
    assert stranger.returncode != 0 and "not found" in stranger.stderr

    with sqlite3.connect(database) as db:
        assert db.execute("select owner, title from chat_thread").fetchall() == [("cli:tester", "hello from a pipe")]
        types = [t for (t,) in db.execute("select type from chat_item order by seq")]
        assert types == ["user_message", "assistant_message"] * 3
        db.execute(
            'update chat_thread set status=\'locked\', data=json_set(data, \'$.status\', json(\'{"type":"locked","reason":"Read only"}\'))'
        )
    locked = run_chat(env, "still there?\n", "--owner", "cli:tester", "--thread", thread_id)
    assert locked.returncode != 0 and "This thread is locked: Read only" in locked.stderr
