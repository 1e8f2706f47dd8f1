"""The live-thread WebSocket: watch one thread's new items as they are written.

Route: ``/chatkit/live`` (:mod:`chat.routing`). Protocol, JSON text frames:

* client → server ``{"type": "subscribe", "thread_id": "thr_…"}``: watch that
  thread (replacing any earlier subscription of this socket). Answered
  ``{"type": "subscribed", "thread_id": …}``, or, for a thread that is missing
  or another owner's, ``{"type": "error", "thread_id": …, "error": {"code":
  "not_found", "message": …}}`` and nothing of that thread, ever.
* client → server ``{"type": "unsubscribe"}``: stop watching.
* server → client ``{"type": "event", "thread_id": …, "event": {ChatKit
  ThreadStreamEvent}}`` for each relayed event (:mod:`chat.live`).

The owner is found exactly as ``POST /chatkit`` finds it: the ``CHATKIT_OWNER``
function (:func:`chat.context.request_context`) on a Django request built from
the socket's scope, with the session and user that Channels' session and
auth middleware read from the same cookies. The origin must be one of
``ALLOWED_HOSTS`` (``chatproject.asgi``), so another site's page can't open it.
"""

from __future__ import annotations

import io
import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.handlers.asgi import ASGIRequest

from . import live, models
from .conf import DEFAULTS, app_settings
from .context import anonymous_token, request_context
from .limits import RateLimited

logger = logging.getLogger(__name__)


class LiveThreadConsumer(AsyncWebsocketConsumer):
    """One socket, at most one watched thread at a time (the one open in the client)."""

    group: str | None = None
    thread_id: str | None = None

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = json.loads(text_data or "")
            kind = message.get("type")
        except (ValueError, AttributeError):
            await self._error(None, "bad_request", "Send JSON objects with a type.")
            return
        if kind == "subscribe":
            await self._subscribe(message.get("thread_id"))
        elif kind == "unsubscribe":
            await self._leave()
        else:
            await self._error(None, "bad_request", f"Unknown message type {kind!r}: use subscribe or unsubscribe.")

    async def disconnect(self, code):
        await self._leave()

    async def thread_event(self, message):
        """A relayed event of the watched thread (:data:`chat.live.MESSAGE_TYPE`)."""
        if message["thread_id"] != self.thread_id:  # left meanwhile
            return
        prefix = '{"type":"event","thread_id":' + json.dumps(self.thread_id) + ',"event":'
        for event in message["events"]:  # one WebSocket message per event, as the client reads them
            await self.send(text_data=prefix + event + "}")

    async def _subscribe(self, thread_id) -> None:
        if not isinstance(thread_id, str) or not thread_id or len(thread_id) > 64:
            await self._error(None, "bad_request", "subscribe needs a thread_id.")
            return
        await self._leave()
        if not await database_sync_to_async(self._owns)(thread_id):
            await self._error(thread_id, "not_found", f"Thread {thread_id} not found")
            return
        self.group, self.thread_id = live.group_name(thread_id), thread_id
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send(text_data=json.dumps({"type": "subscribed", "thread_id": thread_id}))

    def _owns(self, thread_id: str) -> bool:
        """Whether this socket's owner (as ``/chatkit`` finds it) owns ``thread_id``. Sync.

        A visitor with no owner yet (no login, no owner cookie) owns no thread,
        and the default owner function is not asked: it would mint an owner
        that no cookie can carry back over a socket, and count it against the
        address's ``CHATKIT_NEW_OWNERS_PER_HOUR``, so a page opening sockets
        could use up its visitors' allowance. An owner function that refuses
        (``RateLimited``) owns nothing either.
        """
        request = self._request()
        if (
            DEFAULTS["CHATKIT_OWNER"] == app_settings.CHATKIT_OWNER
            and not request.user.is_authenticated
            and not anonymous_token(request)
        ):
            return False
        try:
            context = request_context(request)
        except RateLimited:
            return False
        return models.Thread.objects.owned_by(context.owner).filter(id=thread_id).exists()

    def _request(self) -> ASGIRequest:
        # The handshake is an HTTP GET: the same headers, cookies, session and user.
        request = ASGIRequest({**self.scope, "type": "http", "method": "GET"}, io.BytesIO())
        request.session = self.scope["session"]
        request.user = self.scope["user"]
        return request

    async def _leave(self) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        self.group = self.thread_id = None

    async def _error(self, thread_id: str | None, code: str, message: str) -> None:
        await self.send(
            text_data=json.dumps({"type": "error", "thread_id": thread_id, "error": {"code": code, "message": message}})
        )
