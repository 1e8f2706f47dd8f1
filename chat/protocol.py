"""Checking a ChatKit request before anything streams.

A streaming request returns a lazy ``StreamingResult``: an unknown or foreign
id would fail only after the 200 header is out (DESIGN.md). So the view
parses the body with the SDK's own request types and checks every id in it
against the owner first, answering 400/404 as JSON instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatkit.store import NotFoundError
from chatkit.types import (
    AttachmentsDeleteReq,
    ChatKitReq,
    ItemsFeedbackReq,
    ThreadsAddClientToolOutputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    ThreadMetadata,
)
from pydantic import TypeAdapter, ValidationError

from . import models
from .context import RequestContext
from .threads import refusal_for

# Built once per process; the SDK's process() builds one per request (~2 ms).
REQUEST_ADAPTER: TypeAdapter[ChatKitReq] = TypeAdapter(ChatKitReq)


class BadRequest(Exception):
    """A request that is well-formed JSON but can't be served (answered with 400).

    Attributes:
        code: a short machine-readable code, e.g. ``"invalid_request"``.
        message: what is wrong, for a person.
    """

    def __init__(self, message: str, code: str = "invalid_request"):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class CheckedRequest:
    """A parsed request whose ids all belong to the owner.

    Attributes:
        request: the SDK request object.
        thread_refusal: the status reason text for a locked/closed thread.
    """

    request: ChatKitReq
    thread_refusal: str | None = None


def parse_request(body: bytes) -> ChatKitReq:
    """Parse a request body with the SDK's ``ChatKitReq`` union.

    Raises:
        BadRequest: malformed JSON, an unknown ``type``, or wrong fields; the
            message names the first problems pydantic found.
    """
    try:
        return REQUEST_ADAPTER.validate_json(body)
    except ValidationError as exc:
        raise BadRequest(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError, limit: int = 3) -> str:
    """A one-line summary of a pydantic error: ``"params.thread_id: Field required; …"``."""
    parts = []
    for error in exc.errors(include_url=False)[:limit]:
        # Tagged unions add the tag to the path ("threads.create"); keep it, it names the type.
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def check_request(request: ChatKitReq, context: RequestContext) -> CheckedRequest:
    """Check that every thread, item and attachment id in ``request`` is the owner's.

    Runs at most three small queries. Marks the thread as owned in
    ``context`` so the store skips its own check later.

    Raises:
        NotFoundError: an id that is missing or belongs to another owner.
        BadRequest: a request the server can't serve in the thread's state
            (retry of a non-user message, tool output with no pending call).
    """
    params = getattr(request, "params", None)
    thread_id = getattr(params, "thread_id", None)
    refusal = None
    if thread_id is not None:
        row = (
            models.Thread.objects.filter(id=thread_id, owner=context.owner)
            .values_list("status", "data")
            .first()
        )
        if row is None:
            raise NotFoundError(f"Thread {thread_id} not found")
        context.owned_threads.add(thread_id)
        context.prefetched_threads[thread_id] = row[1]
        if row[0] != "active":  # only then is the JSON worth validating here
            refusal = refusal_for(ThreadMetadata.model_validate(row[1]))

    item_ids = _item_ids(request)
    if item_ids:
        found = dict(
            models.Item.objects.filter(thread_id=thread_id, owner=context.owner, id__in=item_ids)
            .values_list("id", "type")
        )
        missing = set(item_ids) - set(found)
        if missing:
            raise NotFoundError(f"Item {sorted(missing)[0]} not found in thread {thread_id}")
        if isinstance(request, ThreadsRetryAfterItemReq) and found[params.item_id] != "user_message":
            raise BadRequest(f"Item {params.item_id} is not a user message; retry starts after one.")
        if isinstance(request, (ThreadsCustomActionReq, ThreadsSyncCustomActionReq)):
            if found[params.item_id] != "widget":
                raise BadRequest(f"Item {params.item_id} is not a widget; actions come from widgets.")

    attachment_ids = _attachment_ids(request)
    if attachment_ids:
        found_attachments = models.Attachment.objects.filter(
            owner=context.owner, id__in=attachment_ids
        ).count()
        if found_attachments != len(set(attachment_ids)):
            raise NotFoundError("Attachment not found")

    if isinstance(request, ThreadsAddClientToolOutputReq):
        newest = (
            models.Item.objects.filter(thread_id=thread_id, owner=context.owner)
            .order_by("-seq")
            .values_list("type", "data")
            .first()
        )
        if newest is None or newest[0] != "client_tool_call" or newest[1].get("status") != "pending":
            raise BadRequest(
                "The thread has no pending client tool call to answer.", code="no_pending_tool_call"
            )

    return CheckedRequest(request=request, thread_refusal=refusal)


def _item_ids(request: ChatKitReq) -> list[str]:
    params = request.params
    if isinstance(request, ItemsFeedbackReq):
        return list(params.item_ids)
    if isinstance(request, ThreadsRetryAfterItemReq):
        return [params.item_id]
    if isinstance(request, (ThreadsCustomActionReq, ThreadsSyncCustomActionReq)) and params.item_id:
        return [params.item_id]
    return []


def _attachment_ids(request: ChatKitReq) -> list[str]:
    if isinstance(request, (ThreadsCreateReq, ThreadsAddUserMessageReq)):
        return list(request.params.input.attachments)
    if isinstance(request, AttachmentsDeleteReq):
        return [request.params.attachment_id]
    return []
