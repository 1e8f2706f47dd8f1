"""Moderation: locking, closing and reopening threads, with a reason, on the record.

One function, :func:`set_status`, used by the admin's actions, its thread form
and anything else that moderates. It keeps the ``status`` column and the stored
ChatKit JSON in step (the app reads the JSON: a locked or closed thread's
``status.reason`` is what both UIs show and what the refusal of a new turn says,
:func:`chat.threads.refusal_for`), and writes one
:class:`chat.models.ModerationEvent` per changed thread: who, when, from what
to what, and why. Three queries for any number of threads.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from . import models

STATUSES = tuple(models.ThreadStatus.values)


def set_status(
    thread_ids: Iterable[str],
    status: str,
    reason: str = "",
    *,
    actor=None,
    actor_name: str | None = None,
) -> int:
    """Give the threads ``thread_ids`` the status ``status`` with ``reason``; return how many changed.

    Args:
        thread_ids: ChatKit thread ids (not owner-scoped: this is the moderator's tool).
        status: ``"active"``, ``"locked"`` or ``"closed"``.
        reason: why, in words for the thread's owner; stored in the event and,
            for locked and closed, in the thread's ``status.reason``.
        actor: the Django user doing it, or ``None``.
        actor_name: who, when there is no user (a command's name); defaults to
            the user's username.

    A thread already in ``status`` with the same reason is left alone (no event).
    Raises ``ValueError`` for an unknown status.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    reason = (reason or "").strip()
    name = actor_name or (actor.get_username() if actor is not None else "system")
    now = timezone.now()
    with transaction.atomic():
        rows = list(models.Thread.objects.filter(id__in=list(thread_ids)).only("seq", "id", "status", "data"))
        new_status = {"type": status, **({"reason": reason} if reason and status != "active" else {})}
        changed, events = [], []
        for row in rows:
            if (row.data or {}).get("status") == new_status and row.status == status:
                continue
            events.append(
                models.ModerationEvent(
                    thread_id=row.id,
                    status_from=row.status,
                    status_to=status,
                    reason=reason,
                    actor=actor,
                    actor_name=name[:150],
                    created_at=now,
                )
            )
            row.status = status
            row.data = {**(row.data or {}), "status": new_status}
            changed.append(row)
        if changed:
            models.Thread.objects.bulk_update(changed, ["status", "data"])
            models.ModerationEvent.objects.bulk_create(events)
    return len(changed)
