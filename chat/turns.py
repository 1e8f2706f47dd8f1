"""One turn at a time in a thread: the claim on the thread row (docs/architecture.md, "Turns").

Nothing in the ChatKit SDK serialises turns: two at once in one thread answer
each other's messages, and racing retries or client tool outputs double the
answer. So every request that runs a turn claims its thread first, in the
request check, with one conditional ``UPDATE … RETURNING``: it sets
``Thread.turn_id`` only where no live turn holds it. One statement is atomic
on SQLite and PostgreSQL alike, so the claim holds across worker processes;
the loser is refused with 409 ``thread_busy`` before anything streams.

While the turn streams, :func:`running` beats every
``CHATKIT_TURN_HEARTBEAT_SECONDS``: it refreshes ``turn_heartbeat_at`` and
saves the answer so far (marked cut off until the answer is done), so a hard
kill loses at most that many seconds of text. When the stream ends (done,
failed or cut) the claim is released. A claim whose heartbeat is older than
``CHATKIT_TURN_STALE_SECONDS`` belongs to a process that died: the next turn
takes it over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone

from . import models
from .conf import app_settings
from .context import RequestContext

logger = logging.getLogger(__name__)

BUSY_MESSAGE = "This thread is still answering. Wait for the answer to finish (or stop it), then send again."


class ThreadBusy(Exception):
    """Another turn is running in the thread (answered with 409 ``thread_busy``)."""

    code = "thread_busy"

    def __init__(self, message: str = BUSY_MESSAGE):
        super().__init__(message)
        self.message = message


def new_turn_id() -> str:
    """A fresh claim token: 32 hex digits."""
    return uuid.uuid4().hex


def _stale_cutoff():
    return timezone.now() - timedelta(seconds=app_settings.CHATKIT_TURN_STALE_SECONDS)


def claim(thread_id: str, owner: str, turn_id: str) -> dict[str, Any] | None:
    """Claim ``owner``'s active thread ``thread_id`` for the turn ``turn_id``, in one statement.

    Matches only an active thread with no claim, or a stale one (no heartbeat
    for ``CHATKIT_TURN_STALE_SECONDS``). Returns the thread's stored
    ThreadMetadata JSON when the claim was made, ``None`` when no row matched
    (missing, another owner's, not active, or busy: the caller reads the row
    to tell which). Sync: call it in a worker thread.
    """
    q = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"UPDATE {q(models.Thread._meta.db_table)} SET {q('turn_id')} = %s, {q('turn_heartbeat_at')} = %s,"
        f" {q('updated_at')} = %s"
        f" WHERE {q('id')} = %s AND {q('owner')} = %s AND {q('status')} = %s"
        f" AND ({q('turn_id')} IS NULL OR {q('turn_heartbeat_at')} < %s)"
        f" RETURNING {q('data')}"
    )
    now = adapt(timezone.now())
    params = [turn_id, now, now, thread_id, owner, models.ThreadStatus.ACTIVE, adapt(_stale_cutoff())]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()  # to the end: SQLite holds the write lock while the statement is open
    row = rows[0] if rows else None
    if row is None:
        return None
    data = row[0]
    return json.loads(data) if isinstance(data, (str, bytes)) else data


def release(thread_id: str, turn_id: str) -> None:
    """Clear the claim ``turn_id`` on ``thread_id`` (a no-op when it is no longer ours). Sync.

    Also stamps the thread's last activity: the claim and the release bracket
    every item a turn writes, so the store needn't touch the thread per item.
    One plain statement, like :func:`claim` (compiling the ORM's costs more than running it).
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    _execute(
        "UPDATE {table} SET {turn_id} = NULL, {heartbeat} = NULL, {updated_at} = %s WHERE {id} = %s AND {turn_id} = %s",
        [now, thread_id, turn_id],
    )


def beat(thread_id: str, turn_id: str) -> bool:
    """Refresh the claim's heartbeat. Returns ``False`` when the claim is gone (thread deleted). Sync."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return bool(
        _execute("UPDATE {table} SET {heartbeat} = %s WHERE {id} = %s AND {turn_id} = %s", [now, thread_id, turn_id])
    )


def _save_and_beat(write: Callable[[], Any] | None, thread_id: str, turn_id: str) -> bool:
    """One heartbeat in one hop: the answer so far (if any), then :func:`beat`. Sync."""
    if write is not None:
        write()
    return beat(thread_id, turn_id)


def _execute(template: str, params: list) -> int:
    """Run one statement on the thread table (names quoted for this database); the rows it changed."""
    q = connection.ops.quote_name
    sql = template.format(
        table=q(models.Thread._meta.db_table),
        turn_id=q("turn_id"),
        heartbeat=q("turn_heartbeat_at"),
        updated_at=q("updated_at"),
        id=q("id"),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def release_now(context: RequestContext) -> None:
    """Release the claim ``context`` holds, if any (sync; for failures before the stream starts)."""
    turn = context.turn
    if turn.id and turn.thread_id:
        release(turn.thread_id, turn.id)
    turn.id = None


@contextlib.asynccontextmanager
async def running(context: RequestContext, progress: Callable[[RequestContext], Callable[[], Any] | None]):
    """Hold the request's claim while the body runs: heartbeats meanwhile, release at the end.

    On each heartbeat ``progress(context)`` (called on the event loop) returns
    the sync write that saves the answer so far, or ``None``; it runs in the
    same worker-thread hop as the heartbeat's own statement. A request
    without a claim runs the body unchanged. The release runs however the
    body ends, shielded from a second cancellation.
    """
    turn = context.turn
    if turn.id is None:
        yield
        return
    beating = asyncio.create_task(_heartbeat(context, progress))
    try:
        yield
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await beating
        turn_id, turn.id = turn.id, None  # released: the response's close() has nothing left to do
        if turn.thread_id:
            with contextlib.suppress(Exception):
                await asyncio.shield(sync_to_async(release)(turn.thread_id, turn_id))


async def _heartbeat(context: RequestContext, progress) -> None:
    turn = context.turn
    while True:
        await asyncio.sleep(app_settings.CHATKIT_TURN_HEARTBEAT_SECONDS)
        if turn.thread_id is None or turn.gone:
            continue
        try:
            if not await sync_to_async(_save_and_beat)(progress(context), turn.thread_id, turn.id):
                turn.gone = True  # deleted meanwhile (or taken over after a stall): stop writing
        except Exception:
            logger.exception("Heartbeat of the turn in thread %s failed", turn.thread_id)
