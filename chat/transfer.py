"""Export and import of threads: JSON that moves a thread between installations, Markdown to read.

The JSON (:func:`export_threads`) holds, per thread, the stored ChatKit JSON of
the thread and of every item exactly as the store keeps them, with its
feedback, server tool calls, moderation record and attachments (their
metadata and, when stored, their bytes in base64)::

    {"format": "django-chatkit/threads", "version": 1, "exported_at": "...",
     "threads": [{"id": "thr_…", "owner": "user:3", "username": "alice",
                  "created_at": "...", "updated_at": "...", "thread": {...ThreadMetadata...},
                  "items": [{...ThreadItem...}, ...], "feedback": [...], "tool_calls": [...],
                  "moderation": [...], "attachments": [...]}]}

:func:`import_threads` loads such a file back, all or nothing: it checks the
whole file first (the SDK's own pydantic models validate every thread and
item) and refuses with :class:`ImportRefused` (a message naming the thread and
the problem) a malformed file, an unknown format version, a thread or
attachment id that exists already, or a user owner whose username this
installation lacks; then writes it in one transaction. Exporting an imported
thread gives back the same JSON (``tests/test_transfer.py``).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from chatkit.types import ThreadMetadata
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import ValidationError

from . import models
from .context import user_owner
from .protocol import describe_validation_error
from .store import ATTACHMENT_ADAPTER, ITEM_ADAPTER, aware
from .threads import item_text
from .transcript import build_entries

FORMAT = "django-chatkit/threads"
VERSION = 1


class ImportRefused(Exception):
    """The file can't be imported; nothing was written. ``str()`` says why."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- export -------------------------------------------------------------------


def export_threads(threads) -> dict[str, Any]:
    """The JSON document (a dict) of ``threads`` (a ``Thread`` queryset), in a fixed number of queries."""
    threads = list(threads.select_related("user").order_by("seq"))
    ids = [t.id for t in threads]

    def grouped(queryset, order):
        out: dict[str, list] = {i: [] for i in ids}
        for row in queryset.filter(thread_id__in=ids).order_by(*order):
            out[row.thread_id].append(row)
        return out

    items = grouped(models.Item.objects.only("thread_id", "data"), ("seq",))
    feedback = grouped(models.Feedback.objects.all(), ("item_id",))
    calls = grouped(models.ServerToolCall.objects.all(), ("seq",))
    events = grouped(models.ModerationEvent.objects.all(), ("created_at", "id"))
    attachments = grouped(models.Attachment.objects.all(), ("seq",))
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "threads": [
            {
                "id": t.id,
                "owner": t.owner,
                "username": t.user.get_username() if t.user_id and t.user else None,
                "created_at": _iso(t.created_at),
                "updated_at": _iso(t.updated_at),
                "thread": t.data,
                "items": [i.data for i in items[t.id]],
                "feedback": [
                    {"item_id": f.item_id, "kind": f.kind, "created_at": _iso(f.created_at)} for f in feedback[t.id]
                ],
                "tool_calls": [
                    {
                        "call_id": c.call_id,
                        "name": c.name,
                        "arguments": c.arguments,
                        "output": c.output,
                        "created_at": _iso(c.created_at),
                        "finished_at": _iso(c.finished_at),
                    }
                    for c in calls[t.id]
                ],
                "moderation": [
                    {
                        "status_from": e.status_from,
                        "status_to": e.status_to,
                        "reason": e.reason,
                        "actor_name": e.actor_name,
                        "created_at": _iso(e.created_at),
                    }
                    for e in events[t.id]
                ],
                "attachments": [_export_attachment(a) for a in attachments[t.id]],
            }
            for t in threads
        ],
    }


def _export_attachment(row: models.Attachment) -> dict[str, Any]:
    content = None
    if row.file.name:
        try:
            with row.file.open("rb") as handle:
                content = base64.b64encode(handle.read()).decode("ascii")
        except OSError:  # the bytes are gone; the metadata still moves
            content = None
    return {
        "id": row.id,
        "name": row.name,
        "mime_type": row.mime_type,
        "created_at": _iso(row.created_at),
        "data": row.data,
        "file_name": row.file.name.rsplit("/", 1)[-1] if row.file.name else None,
        "content_base64": content,
    }


def dumps(document: dict[str, Any]) -> str:
    """The JSON text of an export document (UTF-8, indented)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def threads_markdown(threads) -> str:
    """A readable Markdown transcript of ``threads`` (a ``Thread`` queryset), oldest item first."""
    out: list[str] = []
    for thread in threads.order_by("seq"):
        items = thread.items.order_by("seq").only("id", "type", "data", "created_at", "seq")
        calls = thread.tool_calls.all()
        feedback = dict(thread.feedback.values_list("item_id", "kind"))
        status = (thread.data or {}).get("status") or {"type": thread.status}
        out.append(f"# {thread.title or thread.id}\n")
        out.append(
            f"- thread: `{thread.id}`\n- owner: `{thread.owner}`\n- status: {status.get('type')}"
            + (f" ({status['reason']})" if status.get("reason") else "")
            + f"\n- created: {_iso(thread.created_at)}\n- last activity: {_iso(thread.updated_at)}\n"
        )
        for entry in build_entries(items, calls, feedback):
            marks = [*entry.notes]
            if entry.hidden:
                marks.insert(0, "hidden from the user")
            if entry.feedback:
                marks.append(f"feedback: {entry.feedback}")
            head = f"### {entry.speaker} · {entry.created_at:%Y-%m-%d %H:%M:%S}" + (
                f" · {'; '.join(marks)}" if marks else ""
            )
            body = entry.text.strip() or "(empty)"
            if entry.kind in ("server_tool_call", "client_tool_call", "hidden_context_item", "sdk_hidden_context"):
                body = "```\n" + body.replace("```", "ʼʼʼ") + "\n```"
            out.append(f"{head}\n\n{body}\n")
        out.append("")
    return "\n".join(out)


# --- import -------------------------------------------------------------------


def _time(value: Any, where: str) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise ImportRefused(f"{where}: not a date and time: {value!r}")
    return aware(parsed)


def _optional_time(value: Any, where: str) -> datetime | None:
    return None if value is None else _time(value, where)


def _require(mapping: Any, key: str, kind: type, where: str):
    if not isinstance(mapping, dict) or key not in mapping or not isinstance(mapping[key], kind):
        raise ImportRefused(f"{where}.{key}: missing or not a {kind.__name__}")
    return mapping[key]


def import_threads(document: Any, *, owner: str | None = None) -> list[str]:
    """Load an :func:`export_threads` document; return the imported thread ids.

    Args:
        document: the parsed JSON (``json.load`` of an export file).
        owner: give every thread to this owner key instead of the file's owners.

    Raises:
        ImportRefused: the file is malformed, of another format or version, names
            a thread or attachment id that exists already, or a user owner whose
            username doesn't exist here. Nothing is written then.
    """
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportRefused(f'not a {FORMAT} file (its "format" must be {FORMAT!r})')
    if document.get("version") != VERSION:
        raise ImportRefused(f"format version {document.get('version')!r} is not supported (only {VERSION})")
    entries = _require(document, "threads", list, "file")
    plan = [_check_thread(entry, f"threads[{n}]", owner) for n, entry in enumerate(entries)]

    ids = [p["thread"].id for p in plan]
    if len(set(ids)) != len(ids):
        raise ImportRefused("the file names the same thread twice")
    existing = set(models.Thread.objects.filter(id__in=ids).values_list("id", flat=True))
    if existing:
        raise ImportRefused(f"thread {sorted(existing)[0]} already exists here; delete it first or leave it out")
    attachment_ids = [a["id"] for p in plan for a in p["attachments"]]
    taken = set(models.Attachment.objects.filter(id__in=attachment_ids).values_list("id", flat=True))
    if taken or len(set(attachment_ids)) != len(attachment_ids):
        raise ImportRefused(f"attachment {sorted(taken or attachment_ids)[0]} already exists here")

    stored_files: list = []
    try:
        with transaction.atomic():
            for p in plan:
                _write(p, stored_files)
    except Exception:
        for field_file in stored_files:  # the rows are gone: so go their bytes
            field_file.storage.delete(field_file.name)
        raise
    return ids


def _check_thread(entry: Any, where: str, owner: str | None) -> dict[str, Any]:
    """Validate one thread of the file; return what :func:`_write` needs. Raises ``ImportRefused``."""
    raw = _require(entry, "thread", dict, where)
    try:
        thread = ThreadMetadata.model_validate(raw)
    except ValidationError as exc:
        raise ImportRefused(f"{where}.thread: {describe_validation_error(exc)}") from None
    if entry.get("id") not in (None, thread.id):
        raise ImportRefused(f"{where}: id {entry.get('id')!r} differs from thread.id {thread.id!r}")

    items, seen = [], set()
    for n, data in enumerate(_require(entry, "items", list, where)):
        try:
            item = ITEM_ADAPTER.validate_python(data)
        except ValidationError as exc:
            raise ImportRefused(f"{where}.items[{n}]: {describe_validation_error(exc)}") from None
        if item.thread_id != thread.id:
            raise ImportRefused(f"{where}.items[{n}]: belongs to thread {item.thread_id}, not {thread.id}")
        if item.id in seen:
            raise ImportRefused(f"{where}.items[{n}]: item id {item.id} appears twice")
        seen.add(item.id)
        items.append((item, data))

    feedback = []
    for n, f in enumerate(entry.get("feedback") or []):
        at = f"{where}.feedback[{n}]"
        if _require(f, "item_id", str, at) not in seen or f.get("kind") not in models.FeedbackKind.values:
            raise ImportRefused(f"{at}: names no item of the thread, or an unknown kind")
        feedback.append((f["item_id"], f["kind"], _time(f.get("created_at"), at)))

    calls = []
    for n, c in enumerate(entry.get("tool_calls") or []):
        at = f"{where}.tool_calls[{n}]"
        calls.append(
            models.ServerToolCall(
                thread_id=thread.id,
                call_id=str(c.get("call_id") or ""),
                name=_require(c, "name", str, at)[:128],
                arguments=str(c.get("arguments") or ""),
                output=str(c.get("output") or ""),
                created_at=_time(c.get("created_at"), at),
                finished_at=_optional_time(c.get("finished_at"), at),
            )
        )

    events = []
    for n, e in enumerate(entry.get("moderation") or []):
        at = f"{where}.moderation[{n}]"
        if (
            e.get("status_from") not in models.ThreadStatus.values
            or e.get("status_to") not in models.ThreadStatus.values
        ):
            raise ImportRefused(f"{at}: unknown status")
        events.append(
            models.ModerationEvent(
                thread_id=thread.id,
                status_from=e["status_from"],
                status_to=e["status_to"],
                reason=str(e.get("reason") or ""),
                actor_name=str(e.get("actor_name") or "")[:150],
                created_at=_time(e.get("created_at"), at),
            )
        )

    attachments = []
    for n, a in enumerate(entry.get("attachments") or []):
        at = f"{where}.attachments[{n}]"
        try:
            ATTACHMENT_ADAPTER.validate_python(_require(a, "data", dict, at))
            content = base64.b64decode(a["content_base64"], validate=True) if a.get("content_base64") else None
        except ValidationError as exc:
            raise ImportRefused(f"{at}.data: {describe_validation_error(exc)}") from None
        except ValueError:
            raise ImportRefused(f"{at}.content_base64: not base64") from None
        attachments.append(
            {**a, "id": _require(a, "id", str, at), "content": content, "created_at": _time(a.get("created_at"), at)}
        )

    row_owner, user_id = _owner_of(entry, where, owner)
    return {
        "thread": thread,
        "raw": raw,
        "owner": row_owner,
        "user_id": user_id,
        "created_at": _time(entry.get("created_at") or raw.get("created_at"), f"{where}.created_at"),
        "updated_at": _time(entry.get("updated_at") or raw.get("created_at"), f"{where}.updated_at"),
        "items": items,
        "feedback": feedback,
        "calls": calls,
        "events": events,
        "attachments": attachments,
    }


def _owner_of(entry: dict, where: str, owner: str | None) -> tuple[str, int | None]:
    """The owner key and user pk a thread gets here: ``owner``, else the file's (users by username)."""
    User = get_user_model()
    if owner:
        user_pk = owner.split(":", 1)[1] if owner.startswith("user:") else None
        user = User.objects.filter(pk=user_pk).first() if user_pk and user_pk.isdigit() else None
        if owner.startswith("user:") and user is None:
            raise ImportRefused(f"--owner {owner}: no such user here")
        return owner[:80], user.pk if user else None
    file_owner = _require(entry, "owner", str, where)
    if not file_owner.startswith("user:"):
        return file_owner[:80], None
    username = entry.get("username")
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first() if username else None
    if user is None:
        raise ImportRefused(
            f"{where}: its owner is the user {username!r}, who doesn't exist here; create them or pass an owner"
        )
    return user_owner(user.pk), user.pk


def _write(p: dict[str, Any], stored_files: list) -> None:
    thread, owner = p["thread"], p["owner"]
    models.Thread.objects.create(
        id=thread.id,
        owner=owner,
        user_id=p["user_id"],
        title=(thread.title or "")[:255],
        status=thread.status.type,
        created_at=p["created_at"],
        updated_at=p["updated_at"],
        data=p["raw"],
    )
    models.Item.objects.bulk_create(
        [
            models.Item(
                id=item.id,
                thread_id=thread.id,
                owner=owner,
                type=item.type,
                created_at=aware(item.created_at),
                text=item_text(item),
                data=data,
            )
            for item, data in p["items"]
        ]
    )
    feedback = models.Feedback.objects.bulk_create(
        [models.Feedback(thread_id=thread.id, item_id=i, owner=owner, kind=k) for i, k, _ in p["feedback"]]
    )
    for row, (_, _, at) in zip(feedback, p["feedback"], strict=True):  # auto_now: set the time afterwards
        models.Feedback.objects.filter(pk=row.pk).update(created_at=at)
    for call in p["calls"]:
        call.owner = owner
    models.ServerToolCall.objects.bulk_create(p["calls"])
    models.ModerationEvent.objects.bulk_create(p["events"])
    for a in p["attachments"]:
        row = models.Attachment(
            id=a["id"],
            owner=owner,
            thread_id=thread.id,
            name=str(a.get("name", ""))[:255],
            mime_type=str(a.get("mime_type", ""))[:255],
            data=a["data"],
        )
        if a["content"] is not None:
            row.file.save(a.get("file_name") or a["id"], ContentFile(a["content"]), save=False)
            stored_files.append(row.file)
        row.save()
        models.Attachment.objects.filter(pk=row.pk).update(created_at=a["created_at"])
