"""Views: the chat page and ``POST /chatkit``.

``/chatkit`` is thin: find the owner, parse and check the request before
anything streams (:mod:`chat.protocol`), then hand it to the ChatKit server
(:mod:`chat.server`). Every failure before the stream is a 4xx with a JSON
body ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import contextlib
import logging

from asgiref.sync import sync_to_async
from chatkit.server import StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import ErrorEvent, is_streaming_req
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import ensure_csrf_cookie

from . import turns
from .conf import app_settings
from .context import RequestContext, request_context
from .protocol import BadRequest, CheckedRequest, check_request, parse_request
from .server import get_server

logger = logging.getLogger(__name__)

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    # nginx and friends: don't buffer the stream.
    "X-Accel-Buffering": "no",
}


def error_response(status: int, code: str, message: str, field: str | None = None, **headers) -> JsonResponse:
    """A JSON error answer: ``{"error": {"code": code, "message": message}}`` (plus ``"field"`` when given)."""
    error = {"code": code, "message": message} | ({"field": field} if field else {})
    response = JsonResponse({"error": error}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


@ensure_csrf_cookie
def index(request):
    """The chat page: mounts the React bundle with the settings it needs.

    ``ensure_csrf_cookie`` sets ``csrftoken``; the frontend sends it back as
    ``X-CSRFToken`` on every ``POST /chatkit``.
    """
    request_context(request)  # an anonymous visitor's owner exists before the app's first requests
    config = {
        "apiUrl": reverse("chat:chatkit"),
        "domainKey": app_settings.CHATKIT_DOMAIN_KEY,
        "ui": app_settings.CHATKIT_UI,
        "cdnUrl": app_settings.CHATKIT_CDN_URL,
        "loadTimeoutMs": app_settings.CHATKIT_CDN_TIMEOUT_MS,
        "models": model_choices(),
    }
    return render(request, "chat/index.html", {"chatkit_config": config})


def model_choices() -> list[dict]:
    """The models a user may pick, for the page: ``[{"id": spec, "label": str, "default": bool}]``.

    ``CHATKIT_MODELS`` lists them (each ``{"id": "<CHATKIT_MODEL spec>", "label": "..."}``);
    the configured model is always among them; with it alone the UIs show no picker.
    """
    default = app_settings.CHATKIT_MODEL
    entries = list(app_settings.CHATKIT_MODELS)
    if default not in [e["id"] for e in entries]:  # the configured model is always offered
        entries.insert(0, {"id": default, "label": default})
    return [
        {"id": e["id"], "label": e.get("label") or e["id"], "default": e["id"] == default} for e in entries
    ]


async def chatkit(request):
    """``POST /chatkit``: one ChatKit protocol request.

    Returns ``text/event-stream`` for streaming requests and JSON for the
    others; 400 (malformed, out of bounds or unservable), 404 (an id that
    isn't the owner's), 405 (not POST), 409 (``thread_busy``: another turn is
    running in the thread, :mod:`chat.turns`), 413 (body over
    ``CHATKIT_MAX_REQUEST_BYTES``) as JSON errors. CSRF protection applies
    (``X-CSRFToken``).
    """
    if request.method != "POST":
        return error_response(405, "method_not_allowed", "Use POST.", Allow="POST")
    limit = app_settings.CHATKIT_MAX_REQUEST_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return error_response(413, "request_too_large", f"The request body is over {limit} bytes.")
    try:
        body = request.body
    except RequestDataTooBig:
        return error_response(413, "request_too_large", f"The request body is over {limit} bytes.")
    if len(body) > limit:
        return error_response(413, "request_too_large", f"The request body is over {limit} bytes.")

    try:
        context, checked = await sync_to_async(_prepare)(request, body)
    except BadRequest as exc:
        return error_response(400, exc.code, exc.message, field=exc.field)
    except NotFoundError as exc:
        return error_response(404, "not_found", str(exc) or "Not found.")
    except turns.ThreadBusy as exc:
        return error_response(409, exc.code, exc.message)

    server, parsed = get_server(), checked.request
    if is_streaming_req(parsed):
        if checked.thread_refusal:
            # Refuse before the SDK runs: retry would otherwise delete items first.
            stream = _single_event(ErrorEvent(message=checked.thread_refusal, allow_retry=False))
        else:
            result = await server.process_request(parsed, context)
            response = TurnStreamingResponse(
                _guarded(result, context, server), content_type="text/event-stream", headers=SSE_HEADERS
            )
            response.turn_context = context
            return response
        return StreamingHttpResponse(stream, content_type="text/event-stream", headers=SSE_HEADERS)

    try:
        result = await server.process_request(parsed, context)
    except NotFoundError as exc:
        return error_response(404, "not_found", str(exc) or "Not found.")
    except (ValueError, NotImplementedError, RuntimeError) as exc:
        # e.g. an unknown sync action, or a request type this server doesn't offer.
        return error_response(400, "unsupported", str(exc) or "This request is not supported.")
    return HttpResponse(result.json, content_type="application/json")


def _prepare(request, body: bytes) -> tuple[RequestContext, CheckedRequest]:
    """Everything before the server runs, in one worker-thread hop.

    Finds the owner (the session), parses the body and checks its ids.
    Raises ``BadRequest`` or ``NotFoundError`` (see :mod:`chat.protocol`).
    """
    context = request_context(request)
    return context, check_request(parse_request(body), context)


class TurnStreamingResponse(StreamingHttpResponse):
    """A turn's SSE stream: closing it releases the turn's claim if its stream never ran.

    The stream releases the claim itself when it ends (:func:`chat.turns.running`);
    a client that leaves before the first byte leaves a stream that never
    starts, and Django's ASGI handler still calls ``close()``.
    """

    turn_context: RequestContext | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.turn_context is not None and self.turn_context.turn.id is not None:
                turns.release_now(self.turn_context)


async def _guarded(result: StreamingResult, context: RequestContext, server):
    """Pass the SDK's SSE frames through; a late failure becomes a final ``error`` event.

    The SDK turns errors inside ``respond()`` into events itself, but errors
    before it (loading the thread, a retry target gone meanwhile) would
    otherwise break the stream after its 200 header. The turn's claim on
    its thread is held, with heartbeats, until the stream ends however it
    ends (:func:`chat.turns.running`); once the thread is deleted
    meanwhile, the stream just ends.
    """
    async with turns.running(context, server.save_progress), contextlib.aclosing(result.json_events) as frames:
        try:
            async for frame in frames:
                yield frame
                if context.turn.gone:
                    return
        except NotFoundError as exc:
            if not context.turn.gone:
                yield _frame(ErrorEvent(message=str(exc) or "Not found.", allow_retry=False))
        except Exception:
            logger.exception("Stream failed before the server could answer")
            yield _frame(ErrorEvent(code="stream.error", allow_retry=True))


async def _single_event(event: ErrorEvent):
    yield _frame(event)


def _frame(event: ErrorEvent) -> bytes:
    return b"data: " + event.model_dump_json(exclude_none=True).encode() + b"\n\n"


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: JSON for ``/chatkit``, Django's page elsewhere."""
    if request.path.startswith(reverse("chat:chatkit")):
        return error_response(403, "csrf_failed", f"CSRF verification failed: {reason}. Send X-CSRFToken.")
    return django_csrf_failure(request, reason=reason)
