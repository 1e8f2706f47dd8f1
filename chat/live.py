"""Live threads: a turn's events reach every other connection watching its thread.

A streamed turn's events (what the requesting client gets over SSE) are also
sent to the thread's Channels group, :func:`group_name`; the WebSocket
consumer (:mod:`chat.consumers`) relays them to each subscriber whose owner
owns the thread. So a thread open in two tabs, or on two devices, shows the
answer being written in both. With ``REDIS_URL`` the group spans every server
process (``channels_redis``); without it, one process (the in-memory layer).

What is relayed: the thread's own changes (``thread.updated``) and its items'
(``thread.item.added/updated/done/removed/replaced``), as the ChatKit event
JSON. Not relayed: ``thread.created`` (nobody can watch a thread before it
exists), ``stream_options``, progress, notices, errors and client effects,
which are the requesting client's own. When a stream is cut short the saved
partial answer is relayed as ``thread.item.done`` (:func:`publish_item_done`).

Publishing never breaks or slows a turn: events are queued and sent by a
task of their own (in order, several per group message when they pile up),
and a failing channel layer is logged while the turn goes on. A group message
is ``{"type": "thread.event", "thread_id": …, "events": [event JSON, …]}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from channels.layers import get_channel_layer
from chatkit.types import ThreadItem, ThreadItemDoneEvent

from . import compat

logger = logging.getLogger(__name__)

RELAYED = frozenset(
    {
        "thread.updated",
        "thread.item.added",
        "thread.item.updated",
        "thread.item.done",
        "thread.item.removed",
        "thread.item.replaced",
    }
)
# The consumer's handler for group messages (Channels maps "thread.event" to thread_event).
MESSAGE_TYPE = "thread.event"


def group_name(thread_id: str) -> str:
    """The Channels group of a thread (group names allow ``[A-Za-z0-9._-]``, under 100 characters)."""
    return f"chatkit.thread.{thread_id}"


def publish(thread_id: str, event_json: str) -> None:
    """Queue one event (its JSON text) for the thread's watchers; returns at once, never raises.

    Sync on purpose: the turn's own stream never waits for the channel layer.
    The thread's events leave in order through one :class:`_Relay` per thread
    and event loop; those queued while a send is under way go together, as one
    group message. Nothing is queued when the layer can tell that nobody
    watches (:func:`chat.compat.nobody_in_group`, the in-process layer): with
    the in-memory layer every ``group_send`` scans all channels and groups.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    group = group_name(thread_id)
    if compat.nobody_in_group(layer, group):
        return
    loop = asyncio.get_running_loop()
    relay = _relays.get((loop, thread_id))
    if relay is None:
        relay = _relays[(loop, thread_id)] = _Relay(loop, layer, thread_id)
    relay.add(event_json)


def publish_item_done(thread_id: str, item: ThreadItem) -> None:
    """Relay an item the server saved outside the stream (a cut-short answer) as ``thread.item.done``."""
    event = ThreadItemDoneEvent(item=item)
    publish(thread_id, event.model_dump_json(by_alias=True, exclude_none=True, context={"exclude_metadata": True}))


class _Relay:
    """The queue of one thread's events on one event loop, sent by one task at a time (so in order)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, layer, thread_id: str) -> None:
        self.loop, self.layer, self.thread_id = loop, layer, thread_id
        self.pending: list[str] = []
        self.task: asyncio.Task | None = None

    def add(self, event_json: str) -> None:
        self.pending.append(event_json)
        if self.task is None:
            self.task = self.loop.create_task(self._send_all())

    async def _send_all(self) -> None:
        try:
            while self.pending:
                events, self.pending = self.pending, []
                try:
                    await self.layer.group_send(
                        group_name(self.thread_id),
                        {"type": MESSAGE_TYPE, "thread_id": self.thread_id, "events": events},
                    )
                except Exception:
                    logger.warning("Could not publish live events of thread %s", self.thread_id, exc_info=True)
        finally:
            self.task = None
            if _relays.get((self.loop, self.thread_id)) is self:
                del _relays[(self.loop, self.thread_id)]


# (event loop, thread id) -> its relay, while it has events to send.
_relays: dict[tuple[asyncio.AbstractEventLoop, str], _Relay] = {}


async def flushed() -> None:
    """Wait until every event queued on this event loop has been handed to the channel layer (for tests)."""
    loop = asyncio.get_running_loop()
    while tasks := [r.task for (at, _), r in list(_relays.items()) if at is loop and r.task is not None]:
        await asyncio.gather(*tasks, return_exceptions=True)


# The events the SDK sends right after writing to the store (chatkit 1.6, _process_events).
WRITTEN = frozenset({"thread.updated", "thread.item.done", "thread.item.replaced", "thread.item.removed"})


async def relayed(
    frames: AsyncIterator[bytes],
    thread_id: str | None,
    after_write: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[bytes]:
    """Pass a turn's SSE frames (``b"data: {json}\\n\\n"``) through, publishing the relayed ones.

    ``thread_id`` is the thread of the request, or ``None`` for
    ``threads.create`` (then it is read from the ``thread.created`` event).
    ``after_write`` is awaited after each event that followed a store write
    (:data:`WRITTEN`), e.g. to hand a pooled connection back (:mod:`chat.db`).
    """
    async for frame in frames:
        if frame.startswith(b"data: "):
            text = frame[6:].strip().decode()
            kind = _event_type(text)
            if kind == "thread.created":
                thread_id = json.loads(text)["thread"]["id"]
            elif kind in RELAYED and thread_id:
                publish(thread_id, text)
            if after_write is not None and kind in WRITTEN:
                await after_write()
        yield frame


def _event_type(text: str) -> str | None:
    # The SDK dumps "type" first: read it without decoding the whole event.
    prefix = '{"type":"'
    if text.startswith(prefix):
        end = text.find('"', len(prefix))
        return text[len(prefix) : end]
    try:
        return json.loads(text).get("type")
    except (ValueError, AttributeError):
        return None
