"""One turn at a time in a thread: the claim on the thread row (docs/architecture.md, "Turns").

Nothing in the ChatKit SDK serialises turns: two at once in one thread answer
each other's messages, and racing retries or client tool outputs double the
answer. So every request that runs a turn claims its thread first, in the
request check, with one conditional ``UPDATE … RETURNING``: it sets
``Thread.turn_id`` only where no live turn holds it. One statement is atomic
on SQLite and PostgreSQL alike, so the claim holds across worker processes;
the loser is refused with 409 ``thread_busy`` before anything streams.

While the turn streams, it is beaten every ``CHATKIT_TURN_HEARTBEAT_SECONDS``
(:class:`Heartbeats`, all of an event loop's turns together): the beat
refreshes ``turn_heartbeat_at`` and saves the answer so far (marked cut off
until the answer is done), so a hard kill loses at most that many seconds of text. When the stream ends (done,
failed or cut) the claim is released. A claim whose heartbeat is older than
``CHATKIT_TURN_STALE_SECONDS`` belongs to a process that died: the next turn
takes it over.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import uuid
import weakref
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone

from . import db, models, workers
from .conf import app_settings
from .context import RequestContext, TurnState

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
async def running(
    context: RequestContext,
    progress: Callable[[RequestContext], Callable[[], Any] | None],
    and_then: Callable[[], None] | None = None,
    *,
    closed_by_response: bool = False,
):
    """Hold the request's claim while the body runs: heartbeats meanwhile, release at the end.

    The turn joins its event loop's :class:`Heartbeats`: on each beat
    ``progress(context)`` (called on the event loop) returns the sync write
    that saves the answer so far, or ``None``. A request without a claim runs
    the body unchanged. The release runs however the body ends, shielded
    from a second cancellation, in one worker-thread hop with ``and_then()``
    (sync; e.g. giving back the stream's slot, :class:`chat.limits.StreamSlot`),
    which runs even without a claim. Errors of either are logged, not raised.

    ``closed_by_response``: the caller's response releases both in its
    ``close()`` (:class:`chat.views.TurnStreamingResponse`). Then, when the
    body ends normally, the release is left to that ``close()``, which Django's
    ASGI handler runs in a worker-thread hop of its own, and the response's
    end waits for it (:func:`chat.workers.defer_response_end`): one hop less
    per turn, and the client still sees the end only once the thread is free
    (issue 15). A body that fails or is cancelled is released here, at once,
    as without it: ``close()`` may come late (a stream cut mid-send is closed
    when the response is collected) or not at all (a cut before the response
    is sent), and releasing twice is harmless.
    """
    heartbeats = None
    if context.turn.id is not None:
        heartbeats = Heartbeats.of_running_loop()
        heartbeats.add(context, progress)
    try:
        yield
    except BaseException:
        if heartbeats is not None:
            heartbeats.discard(context)
        await _release(context, and_then)
        raise
    if heartbeats is not None:
        heartbeats.discard(context)
    if not (closed_by_response and workers.defer_response_end()):
        await _release(context, and_then)


async def _release(context: RequestContext, and_then: Callable[[], None] | None) -> None:
    """Release ``context``'s claim, if any, and run ``and_then()``: one shielded worker-thread hop, errors logged."""
    turn = context.turn
    turn_id, turn.id = turn.id, None  # released: the response's close() has nothing left to do
    thread_id = turn.thread_id
    if turn_id is None and and_then is None:
        return

    def end() -> None:
        try:
            if turn_id and thread_id:
                release(thread_id, turn_id)
        finally:
            if and_then is not None:
                and_then()

    with contextlib.suppress(Exception):
        await asyncio.shield(sync_to_async(_logged(end))())


def _logged(fn: Callable[[], None]) -> Callable[[], None]:
    """``fn``, logging what it raises (for the end of a stream, where nobody is left to tell)."""

    def call() -> None:
        try:
            fn()
        except Exception:
            logger.exception("Releasing what a stream held failed")
            raise

    return call


# Heartbeat slices: each beat writes about 1/SLICES of the running turns (see Heartbeats).
SLICES = 32


class _Beating:
    """One running turn in :class:`Heartbeats`: its context, its progress write and where its sync calls run."""

    __slots__ = ("context", "progress", "worker", "task_context", "slice")

    def __init__(self, context: RequestContext, progress):
        self.context = context
        self.progress = progress
        # The turn's own worker thread (chat.workers): its beat queues behind the turn's
        # writes already submitted and before later ones, so a beat can't overwrite the final answer.
        self.worker = workers.current_worker()
        # Without a worker pool, the beat is a sync_to_async call from the turn's own context instead.
        self.task_context = contextvars.copy_context() if self.worker is None else None


class Heartbeats:
    """The heartbeats of every running turn on one event loop, written together (docs/architecture.md, "Turns").

    Every ``CHATKIT_TURN_HEARTBEAT_SECONDS`` each turn's progress write (the
    answer so far) runs, with one ``UPDATE`` that refreshes the claims of the
    turns beaten together, in one hop per worker thread: 500 open streams cost
    a few hops per beat, not 500 hops and 500 timers. The turns are dealt
    round-robin into :data:`SLICES` slices, and one task beats one slice every
    ``1/SLICES`` of the interval, so each turn is still beaten once per
    interval but the writes are spread over it: all 500 in one burst held
    the GIL for ~130 ms, a stall every open stream felt at each beat
    (500-stream lag p50 ~0.5 s; in 32 slices ~0.06 s, as without beats;
    issue 15). A turn whose claim is gone (thread deleted, or taken over
    after a stall) is marked ``gone`` and writes nothing more. The task runs
    only while a turn is running.
    """

    _by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Heartbeats] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self.turns: dict[int, _Beating] = {}
        self.slices: list[dict[int, _Beating]] = [{} for _ in range(SLICES)]
        self.dealt = 0  # turns added so far: the next one goes to slice dealt % SLICES
        self.task: asyncio.Task | None = None

    @classmethod
    def of_running_loop(cls) -> Heartbeats:
        """The running event loop's heartbeats (made on first use)."""
        loop = asyncio.get_running_loop()
        heartbeats = cls._by_loop.get(loop)
        if heartbeats is None:
            heartbeats = cls._by_loop[loop] = cls()
        return heartbeats

    def add(self, context: RequestContext, progress) -> None:
        """Beat for ``context``'s turn until :meth:`discard` (call it from the turn's request)."""
        beating = _Beating(context, progress)
        beating.slice = self.slices[self.dealt % SLICES]
        self.dealt += 1
        self.turns[id(context)] = beating.slice[id(context)] = beating
        if self.task is None or self.task.done():
            # A context of its own: the task outlives the request that starts it.
            self.task = asyncio.get_running_loop().create_task(self._run(), context=contextvars.Context())

    def discard(self, context: RequestContext) -> None:
        """Stop beating for ``context``'s turn."""
        beating = self.turns.pop(id(context), None)
        if beating is not None:
            beating.slice.pop(id(context), None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due, tick = loop.time(), 0
        while self.turns:
            # On a fixed schedule: a slow beat doesn't push every later one back.
            due += app_settings.CHATKIT_TURN_HEARTBEAT_SECONDS / SLICES
            await asyncio.sleep(max(0.0, due - loop.time()))
            turns, tick = self.slices[tick % SLICES], tick + 1
            if not turns:
                continue
            try:
                await self.beat(list(turns.values()))
            except Exception:
                logger.exception("Heartbeat of the running turns failed")

    async def beat(self, turns: list[_Beating]) -> None:
        """One heartbeat for ``turns`` (a slice): their writes and one claim refresh per worker thread."""
        groups: dict[Any, list[tuple[TurnState, str, str, Callable[[], Any] | None]]] = {}
        places: dict[Any, _Beating] = {}
        for beating in turns:
            turn = beating.context.turn
            if turn.id is None or turn.thread_id is None or turn.gone:
                continue
            key = beating.worker if beating.worker is not None else id(beating)
            groups.setdefault(key, []).append((turn, turn.thread_id, turn.id, beating.progress(beating.context)))
            places.setdefault(key, beating)
        # Submitted in this same step, before any await: each group queues behind its turns' writes so far.
        calls = [self._submit(places[key], [entry[1:] for entry in entries]) for key, entries in groups.items()]
        results = await asyncio.gather(*calls, return_exceptions=True)
        for entries, alive in zip(groups.values(), results):
            if isinstance(alive, BaseException):
                logger.error("Heartbeat of %d running turns failed", len(entries), exc_info=alive)
                continue
            for turn, _, turn_id, _ in entries:
                if turn_id not in alive and turn.id == turn_id:
                    turn.gone = True  # deleted meanwhile (or taken over after a stall): stop writing

    @staticmethod
    def _submit(place: _Beating, entries: list[tuple[str, str, Callable[[], Any] | None]]):
        if place.worker is not None:
            return asyncio.get_running_loop().run_in_executor(place.worker, beat_all, entries)
        return asyncio.get_running_loop().create_task(
            sync_to_async(beat_all)(entries), context=place.task_context.copy()
        )


def beat_all(entries: list[tuple[str, str, Callable[[], Any] | None]]) -> set[str]:
    """One heartbeat of several turns, given as ``(thread_id, turn_id, write or None)``. Sync.

    Runs each write (the answer so far; a failing one is logged and skipped),
    then refreshes the claims that still hold with one ``UPDATE … RETURNING``
    per 500 turns. Returns the turn ids whose claim still holds.
    """
    for thread_id, _, write in entries:
        if write is not None:
            try:
                write()
            except Exception:
                logger.exception("Saving the answer so far in thread %s failed", thread_id)
    alive: set[str] = set()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    q = connection.ops.quote_name
    for start in range(0, len(entries), 500):
        chunk = entries[start : start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        # Matching ids and claims separately is exact: a claim token is unique to its thread.
        sql = (
            f"UPDATE {q(models.Thread._meta.db_table)} SET {q('turn_heartbeat_at')} = %s"
            f" WHERE {q('id')} IN ({marks}) AND {q('turn_id')} IN ({marks}) RETURNING {q('turn_id')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [now, *(e[0] for e in chunk), *(e[1] for e in chunk)])
            alive.update(row[0] for row in cursor.fetchall())
    db.release_connection()  # a pooled connection goes back between beats (chat.db)
    return alive
