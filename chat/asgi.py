"""Early refusals: an ASGI wrapper that bounds request bodies before Django reads them.

Django's ASGI handler reads the whole body (spooling it to disk past
``FILE_UPLOAD_MAX_MEMORY_SIZE``) before any middleware or view runs, so a
view's 413 comes only after the client has sent everything. This wrapper sits
in front of Django (``chatproject/asgi.py``) and:

* answers 413 at once, without reading a byte of the body, when the declared
  ``Content-Length`` is over the limit;
* cuts a body sent without a length (chunked) at the limit: Django is told the
  client went away, and the client gets the 413;
* answers 408 when the client stalls for ``CHATKIT_BODY_TIMEOUT`` seconds in the
  middle of a body.

The limit is ``CHATKIT_MAX_REQUEST_BYTES`` for ``POST /chatkit`` and
``CHATKIT_MAX_BODY_BYTES`` for every other path (uploads under ``/chatkit/attachments``:
at least ``CHATKIT_ATTACHMENT_MAX_BYTES`` plus a multipart envelope). Errors are the app's JSON shape,
``{"error": {"code", "message"}}`` (docs/architecture.md, "Early refusals").
Timeouts before a request's headers are complete are the server's business
(README, "Limits": uvicorn's and daphne's options).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from .conf import app_settings

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


def body_limit(scope: Scope) -> int:
    """The largest body, in bytes, that a request to ``scope["path"]`` may have."""
    from django.urls import NoReverseMatch

    from .middleware import chatkit_path as chatkit_url

    try:
        chatkit_path = chatkit_url()
    except NoReverseMatch:  # a project that doesn't include chat.urls
        chatkit_path = None
    path = scope.get("path") or ""
    if path == chatkit_path:
        return app_settings.CHATKIT_MAX_REQUEST_BYTES
    if chatkit_path and path.startswith(chatkit_path + "/attachments"):
        # An upload: the attachment limit (checked exactly by chat.attachments) plus room for
        # a multipart envelope, so a file at the limit is refused with the attachment's own error.
        return max(app_settings.CHATKIT_MAX_BODY_BYTES, app_settings.CHATKIT_ATTACHMENT_MAX_BYTES + 65_536)
    return app_settings.CHATKIT_MAX_BODY_BYTES


async def send_error(send, status: int, code: str, message: str) -> None:
    """Send a whole JSON error response (``Connection: close``: the rest of the body is unread)."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Wraps an ASGI app: bodies over :func:`body_limit` get 413, stalled bodies 408.

    Args:
        app: the ASGI application to protect (Django's).
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            return await send_error(send, 413, "request_too_large", f"The request body is over {limit} bytes.")

        refusal: tuple[int, str, str] | None = None
        started = False
        received = 0
        body_done = False

        async def bounded_receive() -> Message:
            nonlocal refusal, received, body_done
            if body_done:  # after the body: Django only listens for the disconnect
                return await receive()
            try:
                async with asyncio.timeout(app_settings.CHATKIT_BODY_TIMEOUT):
                    message = await receive()
            except TimeoutError:
                seconds = f"{app_settings.CHATKIT_BODY_TIMEOUT:g}"
                refusal = (408, "request_timeout", f"The request body stalled for {seconds} seconds.")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refusal = (413, "request_too_large", f"The request body is over {limit} bytes.")
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing
                body_done = not message.get("more_body", False)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, bounded_receive, tracked_send)
        if refusal and not started:
            await send_error(send, *refusal)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
