"""Checking a ChatKit request before anything streams: the one authority.

A streaming request returns a lazy ``StreamingResult``: an unknown or foreign
id would fail only after the 200 header is out (docs/architecture.md). So the
view parses the body with the SDK's own request types and checks it here
first, answering 400/404 as JSON instead. :data:`RULES` says, for every member
of the SDK's ``ChatKitReq`` union, which ids it carries and what the thread's
state must be; ``tests/test_protocol_rules.py`` fails when the SDK adds a
request type this table doesn't name.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass

from chatkit.store import NotFoundError
from chatkit.types import (
    AttachmentsCreateReq,
    AttachmentsDeleteReq,
    ChatKitReq,
    InputTranscribeReq,
    ItemsFeedbackReq,
    ItemsListReq,
    ThreadMetadata,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsDeleteReq,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    ThreadsUpdateReq,
)
from pydantic import TypeAdapter, ValidationError

from . import models
from .actions import find_action
from .attachments import UploadRefused, check_declared
from .conf import app_settings
from .context import RequestContext
from .threads import refusal_for

# Built once per process; the SDK's process() builds one per request (~2 ms).
REQUEST_ADAPTER: TypeAdapter[ChatKitReq] = TypeAdapter(ChatKitReq)


class BadRequest(Exception):
    """A request that is well-formed JSON but can't be served (answered with 400).

    Attributes:
        code: a short machine-readable code, e.g. ``"invalid_request"``.
        message: what is wrong, for a person.
        status: the HTTP status, 400 unless a limit says better (413, 415).
    """

    def __init__(self, message: str, code: str = "invalid_request", status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Rule:
    """What the check verifies for one request type.

    Attributes:
        thread: ``params.thread_id`` names a thread that must be the owner's.
        turn: the request starts a turn or an action: refused in a locked or
            closed thread (as an ``error`` event when it streams, else 400).
        items: the item ids in the params that must be in that thread.
        item_type: the type the first of those items must have.
        attachments: the attachment ids in the params that must be the owner's,
            uploaded, at most ``CHATKIT_ATTACHMENTS_PER_MESSAGE``, and in no other thread.
        check: a function of the params that raises ``BadRequest`` (or
            :class:`chat.attachments.UploadRefused`) for values over a limit.
        unsupported: a reason to refuse the request type outright (400).
    """

    thread: bool = False
    turn: bool = False
    items: Callable[[typing.Any], list[str]] | None = None
    item_type: str | None = None
    attachments: Callable[[typing.Any], list[str]] | None = None
    check: Callable[[typing.Any], None] | None = None
    unsupported: str | None = None


def _input_attachments(params) -> list[str]:
    return list(params.input.attachments)


RULES: dict[type, Rule] = {
    ThreadsCreateReq: Rule(attachments=_input_attachments),
    ThreadsAddUserMessageReq: Rule(thread=True, turn=True, attachments=_input_attachments),
    ThreadsAddClientToolOutputReq: Rule(thread=True, turn=True),
    ThreadsAddStructuredInputReq: Rule(
        thread=True, turn=True, items=lambda p: [p.item_id], item_type="structured_input"
    ),
    ThreadsRetryAfterItemReq: Rule(
        thread=True, turn=True, items=lambda p: [p.item_id], item_type="user_message"
    ),
    ThreadsCustomActionReq: Rule(
        thread=True, turn=True, items=lambda p: [p.item_id] if p.item_id else [], item_type="widget"
    ),
    ThreadsSyncCustomActionReq: Rule(
        thread=True, turn=True, items=lambda p: [p.item_id] if p.item_id else [], item_type="widget"
    ),
    ThreadsGetByIdReq: Rule(thread=True),
    ThreadsListReq: Rule(),
    ItemsListReq: Rule(thread=True),
    ItemsFeedbackReq: Rule(thread=True, items=lambda p: list(p.item_ids)),
    AttachmentsCreateReq: Rule(check=lambda p: check_declared(p.name, p.size, p.mime_type)),
    AttachmentsDeleteReq: Rule(attachments=lambda p: [p.attachment_id]),
    ThreadsUpdateReq: Rule(thread=True),
    ThreadsDeleteReq: Rule(thread=True),
    InputTranscribeReq: Rule(unsupported="Speech input is not offered by this server."),
}


def request_types() -> tuple[type, ...]:
    """Every member of the SDK's ``ChatKitReq`` union (``Annotated[Union[...], Field(...)]``)."""
    union = typing.get_args(ChatKitReq)[0] if typing.get_origin(ChatKitReq) is typing.Annotated else ChatKitReq
    return typing.get_args(union)


@dataclass(frozen=True, slots=True)
class CheckedRequest:
    """A parsed request whose ids all belong to the owner.

    Attributes:
        request: the SDK request object.
        thread_refusal: why the thread refuses this turn (locked or closed),
            or ``None``; the view answers a streaming request with it as an
            ``error`` event before the SDK runs.
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


def describe_validation_error(exc: ValidationError, limit: int = 3, prefix: str = "") -> str:
    """A one-line summary of a pydantic error: ``"params.thread_id: Field required; …"``."""
    parts = []
    for error in exc.errors(include_url=False)[:limit]:
        # Tagged unions add the tag to the path ("threads.create"); keep it, it names the type.
        path = [prefix] if prefix else []
        where = ".".join([*path, *(str(p) for p in error["loc"])]) or "body"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def check_request(request: ChatKitReq, context: RequestContext) -> CheckedRequest:
    """Check ``request`` against :data:`RULES` for the owner in ``context``.

    Runs at most three small queries. Records the thread in
    ``context.known_threads`` so the store skips its own check later. Fills
    a user message's ``inference_options.model`` with the model that will
    answer it, so the stored message records it.

    Raises:
        NotFoundError: an id that is missing or belongs to another owner.
        BadRequest: a request the server can't serve (an unsupported type, a
            model not on ``CHATKIT_MODELS``, retry of a non-user message, an
            unregistered action or a payload of the wrong shape, tool output
            with no pending call, a sync action in a locked thread).
    """
    rule = RULES[type(request)]
    params = getattr(request, "params", None)
    if rule.unsupported:
        raise BadRequest(rule.unsupported, code="unsupported")
    if rule.check:
        try:
            rule.check(params)
        except UploadRefused as exc:
            raise BadRequest(exc.message, code=exc.code, status=exc.status) from None

    refusal = None
    thread_id = params.thread_id if rule.thread else None
    if rule.thread:
        row = models.Thread.objects.owned_by(context.owner).filter(id=thread_id).values_list("status", "data").first()
        if row is None:
            raise NotFoundError(f"Thread {thread_id} not found")
        context.known_threads.add(thread_id, row[1])
        if rule.turn and row[0] != models.ThreadStatus.ACTIVE:  # only then is the JSON worth validating
            refusal = refusal_for(ThreadMetadata.model_validate(row[1]))

    item_ids = rule.items(params) if rule.items else []
    if item_ids:
        found = dict(
            models.Item.objects.owned_by(context.owner)
            .filter(thread_id=thread_id, id__in=item_ids)
            .values_list("id", "type")
        )
        missing = set(item_ids) - set(found)
        if missing:
            raise NotFoundError(f"Item {sorted(missing)[0]} not found in thread {thread_id}")
        if rule.item_type and found[item_ids[0]] != rule.item_type:
            kind = rule.item_type.replace("_", " ")
            raise BadRequest(f"Item {item_ids[0]} is not a {kind}.", code="wrong_item_type")

    attachment_ids = rule.attachments(params) if rule.attachments else []
    if attachment_ids:
        _check_attachments(attachment_ids, thread_id, isinstance(request, AttachmentsDeleteReq), context)

    if refusal and not isinstance(request, ThreadsSyncCustomActionReq):
        return CheckedRequest(request=request, thread_refusal=refusal)
    if refusal:
        raise BadRequest(refusal, code="thread_not_active")

    if isinstance(request, (ThreadsCreateReq, ThreadsAddUserMessageReq)):
        options = params.input.inference_options
        options.model = chosen_model(options.model)
    if isinstance(request, (ThreadsCustomActionReq, ThreadsSyncCustomActionReq)):
        _check_action(request)
    if isinstance(request, ThreadsAddClientToolOutputReq):
        _check_pending_tool_call(thread_id, context)
    return CheckedRequest(request=request)


def _check_attachments(ids: list[str], thread_id: str | None, deleting: bool, context: RequestContext) -> None:
    """The attachments must be the owner's; a message's must also be uploaded, few enough, and in no other thread."""
    limit = app_settings.CHATKIT_ATTACHMENTS_PER_MESSAGE
    if not deleting and len(set(ids)) > limit:
        raise BadRequest(
            f"A message can carry {limit} attachments at most (CHATKIT_ATTACHMENTS_PER_MESSAGE).",
            code="too_many_attachments",
        )
    rows = models.Attachment.objects.owned_by(context.owner).filter(id__in=ids).values_list("id", "file", "thread_id")
    found = {row[0]: row for row in rows}
    missing = set(ids) - set(found)
    if missing:
        raise NotFoundError(f"Attachment {sorted(missing)[0]} not found")
    if deleting:
        return
    for attachment_id, file, attached_to in found.values():
        if not file:
            raise BadRequest(f"Attachment {attachment_id} has no file yet: upload it first.", code="attachment_not_uploaded")
        if attached_to and attached_to != thread_id:
            raise BadRequest(f"Attachment {attachment_id} belongs to another thread.", code="attachment_in_other_thread")


def chosen_model(model: str | None) -> str:
    """The model spec a new message is answered by: the user's pick if allowed, else ``CHATKIT_MODEL``.

    Raises ``BadRequest`` (code ``model_not_allowed``) for a pick that is not
    one of ``CHATKIT_MODELS``' ids.
    """
    default = app_settings.CHATKIT_MODEL
    if not model or model == default:
        return default
    allowed = [entry["id"] for entry in app_settings.CHATKIT_MODELS]
    if model not in allowed:
        raise BadRequest(
            f"The model {model!r} is not offered here; choose one of: {', '.join(allowed or [default])}.",
            code="model_not_allowed",
        )
    return model


def _check_action(request: ThreadsCustomActionReq | ThreadsSyncCustomActionReq) -> None:
    action = request.params.action
    sync = isinstance(request, ThreadsSyncCustomActionReq)
    handler = find_action(action.type, sync=sync)
    if handler is None:
        raise BadRequest(f"No {'sync ' if sync else ''}action {action.type!r} is handled here.", code="unknown_action")
    try:
        handler.parse_payload(action.payload)
    except ValidationError as exc:
        raise BadRequest(
            describe_validation_error(exc, prefix="params.action.payload"), code="invalid_action_payload"
        ) from None


def _check_pending_tool_call(thread_id: str, context: RequestContext) -> None:
    newest = (
        models.Item.objects.owned_by(context.owner)
        .filter(thread_id=thread_id)
        .order_by("-seq")
        .values_list("type", "data")
        .first()
    )
    if newest is None or newest[0] != models.ItemType.CLIENT_TOOL_CALL or newest[1].get("status") != "pending":
        raise BadRequest("The thread has no pending client tool call to answer.", code="no_pending_tool_call")
