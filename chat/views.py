"""Views: the chat page and ``POST /chatkit``.

``/chatkit`` is thin: find the owner, parse and check the request before
anything streams (:mod:`chat.protocol`), then hand it to the ChatKit server
(:mod:`chat.server`). Every failure before the stream is a 4xx with a JSON
body ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import contextlib
import logging
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from chatkit.server import StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import ErrorEvent, is_streaming_req
from csp.decorators import csp_update
from django.core.exceptions import RequestDataTooBig
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import ensure_csrf_cookie

from . import models, starts, turns
from .attachments import CURRENT_REQUEST, page_options
from .conf import app_settings
from .context import RequestContext, request_context
from .routing import LIVE_PATH
from .limits import RateLimited, StreamSlot, check_limits, retry_after
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
    ``X-CSRFToken`` on every ``POST /chatkit``. The page's Content-Security-Policy
    (django-csp) allows OpenAI's ChatKit origins only when ChatKit's UI may show
    (:func:`chatkit_csp`); the built-in client needs nothing external.
    """
    page = _page if app_settings.CHATKIT_UI == "builtin" else csp_update(chatkit_csp())(_page)
    return page(request)


def _page(request):
    linked = request.GET.get("thread")
    try:  # an anonymous visitor's owner exists before the app's first requests
        context = request_context(request)
    except RateLimited:
        context = None  # the page still shows; its first /chatkit request gets the 429
    config = {
        "apiUrl": reverse("chat:chatkit"),
        "liveUrl": get_script_prefix() + LIVE_PATH,  # the live-thread WebSocket (chat.routing)
        "itemStateUrl": reverse("chat:item-state"),
        "domainKey": app_settings.CHATKIT_DOMAIN_KEY,
        "ui": app_settings.CHATKIT_UI,
        "cdnUrl": app_settings.CHATKIT_CDN_URL,
        "loadTimeoutMs": app_settings.CHATKIT_CDN_TIMEOUT_MS,
        "models": model_choices(),
        "greeting": app_settings.CHATKIT_GREETING,
        "startPrompts": app_settings.CHATKIT_START_PROMPTS,
        # A ?thread= link to a thread that isn't this owner's: the page says so at
        # once and drops the parameter, instead of asking /chatkit and waiting.
        "missingThread": bool(linked)
        and (context is None or not models.Thread.objects.owned_by(context.owner).filter(id=linked).exists()),
        "attachments": page_options(),
    }
    return render(request, "chat/index.html", {"chatkit_config": config})


def chatkit_csp() -> dict[str, list[str]]:
    """What ChatKit's UI adds to the page's CSP: its script's origin (``CHATKIT_CDN_URL``) and OpenAI's API.

    ``chatkit.js`` comes from that origin and opens its iframe from it; the
    iframe reaches OpenAI's API for the domain key (DESIGN: the component needs internet).
    """
    parts = urlsplit(app_settings.CHATKIT_CDN_URL)
    cdn = f"{parts.scheme}://{parts.netloc}"
    return {
        "script-src": [cdn],
        "frame-src": [cdn],
        "connect-src": [cdn, "https://api.openai.com"],
        "img-src": [cdn],
        "font-src": [cdn],
    }


def model_choices() -> list[dict]:
    """The models a user may pick, for the page: ``[{"id": spec, "label": str, "default": bool}]``.

    ``CHATKIT_MODELS`` lists them (each ``{"id": "<CHATKIT_MODEL spec>", "label": "..."}``);
    the configured model is always among them; with it alone the UIs show no picker.
    """
    default = app_settings.CHATKIT_MODEL
    entries = list(app_settings.CHATKIT_MODELS)
    if default not in [e["id"] for e in entries]:  # the configured model is always offered
        entries.insert(0, {"id": default, "label": default})
    return [{"id": e["id"], "label": e.get("label") or e["id"], "default": e["id"] == default} for e in entries]


def item_state(request):
    """``GET /chatkit/item-state?thread_id=…``: what the protocol's items don't carry.

    Answers ``{"feedback": {item_id: "positive" | "negative"}, "stopped": [item_id, ...]}``:
    the owner's past feedback, and the assistant messages a stop cut short (the
    SDK's ``handle_stream_cancelled`` saves the partial answer, then an
    ``sdk_hidden_context`` item that ``items.list`` never shows). The built-in
    client asks here when it opens a thread. A thread that isn't the
    requester's (or doesn't exist) is a 404 JSON error, like everywhere else
    (docs/architecture.md, "Security model").
    """
    if request.method != "GET":
        return error_response(405, "method_not_allowed", "Use GET.", Allow="GET")
    thread_id = request.GET.get("thread_id", "")
    if not thread_id:
        return error_response(400, "missing_thread_id", "Give the thread as ?thread_id=…")
    owner = request_context(request).owner
    if not models.Thread.objects.owned_by(owner).filter(id=thread_id).exists():
        return error_response(404, "not_found", "This chat doesn't exist or isn't yours.")
    feedback = models.Feedback.objects.owned_by(owner).filter(thread_id=thread_id).values_list("item_id", "kind")
    items = models.Item.objects.owned_by(owner).filter(thread_id=thread_id)
    next_type = items.filter(seq__gt=OuterRef("seq")).order_by("seq").values("type")[:1]
    stopped = (
        items.filter(type=models.ItemType.ASSISTANT_MESSAGE)
        .annotate(next_type=Subquery(next_type))
        .filter(next_type=models.ItemType.SDK_HIDDEN_CONTEXT)
        .order_by("seq")
        .values_list("id", flat=True)
    )
    return JsonResponse({"feedback": dict(feedback), "stopped": list(stopped)})


async def chatkit(request):
    """``POST /chatkit``: one ChatKit protocol request.

    Returns ``text/event-stream`` for streaming requests and JSON for the
    others; 400 (malformed, out of bounds or unservable), 404 (an id that
    isn't the owner's), 405 (not POST), 409 (``thread_busy``: another turn is
    running in the thread, :mod:`chat.turns`), 413 (body over
    ``CHATKIT_MAX_REQUEST_BYTES``; normally refused earlier, by :mod:`chat.asgi`),
    429 (a rate limit of :mod:`chat.limits`, with ``Retry-After``) as JSON errors.
    CSRF protection applies (``X-CSRFToken``).
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
        context, checked, slot = await sync_to_async(_prepare)(request, body)
    except BadRequest as exc:
        return error_response(exc.status, exc.code, exc.message, field=exc.field)
    except NotFoundError as exc:
        return error_response(404, "not_found", str(exc) or "Not found.")
    except turns.ThreadBusy as exc:
        return error_response(409, exc.code, exc.message)
    except RateLimited as exc:
        return error_response(429, "rate_limited", exc.message, **{"Retry-After": retry_after(exc.retry_after)})

    server, parsed = get_server(), checked.request
    if is_streaming_req(parsed):
        if checked.thread_refusal:
            # Refuse before the SDK runs: retry would otherwise delete items first.
            stream = _single_event(ErrorEvent(message=checked.thread_refusal, allow_retry=False), slot)
        else:
            result = await server.process_request(parsed, context)
            stream = _guarded(result, context, server, slot)
        return TurnStreamingResponse(stream, slot, context, content_type="text/event-stream", headers=SSE_HEADERS)

    request_token = CURRENT_REQUEST.set(request)  # attachments.create builds absolute URLs from it
    try:
        result = await server.process_request(parsed, context)
    except NotFoundError as exc:
        return error_response(404, "not_found", str(exc) or "Not found.")
    except (ValueError, NotImplementedError, RuntimeError) as exc:
        # e.g. an unknown sync action, or a request type this server doesn't offer.
        return error_response(400, "unsupported", str(exc) or "This request is not supported.")
    finally:
        CURRENT_REQUEST.reset(request_token)
    return HttpResponse(result.json, content_type="application/json")


def _prepare(request, body: bytes) -> tuple[RequestContext, CheckedRequest, StreamSlot | None]:
    """Everything before the server runs, in one worker-thread hop.

    Finds the owner, parses the body, counts it against the rate limits
    (:mod:`chat.limits`), checks its ids, and for a streaming request takes one
    of the owner's stream slots (the caller releases it when the stream ends).
    Raises ``BadRequest``, ``NotFoundError`` or ``turns.ThreadBusy`` (see
    :mod:`chat.protocol`), or ``RateLimited``.
    """
    context = request_context(request)
    parsed = parse_request(body)
    check_limits(request, context, parsed)
    server = get_server()
    checked = check_request(parsed, context)  # may claim the thread for this turn (chat.turns)
    try:
        slot = StreamSlot.acquire(context) if is_streaming_req(parsed) else None
    except RateLimited:
        if context.turn.id is not None:
            turns.release_now(context)
        raise
    # A new message is saved right after its claim, in this hop; if it can't be, the claim goes.
    if context.turn.id is not None and checked.thread_refusal is None and server.saves_user_message_first(parsed):
        try:
            server.save_user_message(parsed, context)
        except BaseException:
            if slot is not None:
                slot.release()
            turns.release_now(context)
            raise
    return context, checked, slot


class TurnStreamingResponse(StreamingHttpResponse):
    """A turn's SSE stream: closing it gives back what the turn still holds.

    That is its stream slot (:mod:`chat.limits`) and its claim on the thread.
    A stream that ends normally leaves both to ``close()``, which Django's ASGI
    handler runs in a worker-thread hop before the client sees the end
    (:func:`chat.turns.running`, :func:`chat.workers.defer_response_end`); a
    stream that fails or is cut gives them back itself, at once (``close()``
    would come only after Django's send loop is done with the response, and
    its generator may be finalised later still); and a client that leaves
    before the first byte leaves a stream that never starts, which only
    ``close()`` releases.
    """

    def __init__(self, streaming_content, slot: StreamSlot | None, context: RequestContext, **kwargs):
        super().__init__(streaming_content, **kwargs)
        self.slot = slot
        self.turn_context = context

    def __aiter__(self):
        # What Django's send loop iterates (ASGIHandler.send_response: aiter(response)). Its frames
        # are bytes already (the SDK's SSE frames, _frame), so they go as they are: Django's own
        # __aiter__ adds two async generators and make_bytes() to every event (~0.2 ms of CPU a
        # 50-word turn, bench.cpu_per_turn). The loop's aclosing() then closes the stream itself.
        return self._iterator

    def close(self) -> None:
        # The turn's release first: it is what a stream that ended normally left to close()
        # (chat.turns.running), and Django's request_finished may hand the connection back to its pool.
        try:
            if self.slot is not None:
                self.slot.release()
            if self.turn_context.turn.id is not None:
                turns.release_now(self.turn_context)
        except Exception:
            logger.exception("Releasing what a stream held failed")
        finally:
            super().close()


async def _guarded(result: StreamingResult, context: RequestContext, server, slot: StreamSlot | None):
    """Pass the SDK's SSE frames through; a late failure becomes a final ``error`` event.

    The SDK turns errors inside ``respond()`` into events itself, but errors
    before it (loading the thread, a retry target gone meanwhile) would
    otherwise break the stream after its 200 header. The turn's claim on
    its thread is held, with heartbeats, until the stream ends however it
    ends (:func:`chat.turns.running`), and given back in one hop with the
    stream's slot; once the thread is deleted meanwhile, the stream just ends.
    """
    and_then = slot.release if slot is not None else None
    async with (
        turns.running(context, server.progress_write, and_then, closed_by_response=True),
        starts.starting(context),  # open streams' events go before new turns' starts
        contextlib.aclosing(result.json_events) as frames,
    ):
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


async def _single_event(event: ErrorEvent, slot: StreamSlot | None):
    try:
        yield _frame(event)
    finally:
        if slot is not None:
            await sync_to_async(slot.release)()


def _frame(event: ErrorEvent) -> bytes:
    return b"data: " + event.model_dump_json(exclude_none=True).encode() + b"\n\n"


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: JSON for ``/chatkit``, Django's page elsewhere."""
    if request.path.startswith(reverse("chat:chatkit")):
        return error_response(403, "csrf_failed", f"CSRF verification failed: {reason}. Send X-CSRFToken.")
    return django_csrf_failure(request, reason=reason)
