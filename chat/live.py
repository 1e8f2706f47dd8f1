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

Publishing never breaks a turn: a failing channel layer is logged and the
turn goes on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from channels.layers import get_channel_layer
from chatkit.types import ThreadItem, ThreadItemDoneEvent

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


async def publish(thread_id: str, event_json: str) -> None:
    """Send one event (its JSON text) to the thread's watchers; failures are logged, not raised."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(
            group_name(thread_id), {"type": MESSAGE_TYPE, "thread_id": thread_id, "event": event_json}
        )
    except Exception:
        logger.warning("Could not publish a live event of thread %s", thread_id, exc_info=True)


async def publish_item_done(thread_id: str, item: ThreadItem) -> None:
    """Relay an item the server saved outside the stream (a cut-short answer) as ``thread.item.done``."""
    event = ThreadItemDoneEvent(item=item)
    await publish(
        thread_id, event.model_dump_json(by_alias=True, exclude_none=True, context={"exclude_metadata": True})
    )


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
                await publish(thread_id, text)
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
