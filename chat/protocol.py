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

from . import models, turns
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

    def __init__(self, message: str, code: str = "invalid_request", status: int = 400, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field


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
        claims: the request runs a turn: it claims the thread for as long as it
            streams (:mod:`chat.turns`); while another turn holds it, 409 ``thread_busy``.
    """

    thread: bool = False
    turn: bool = False
    claims: bool = False
    items: Callable[[typing.Any], list[str]] | None = None
    item_type: str | None = None
    attachments: Callable[[typing.Any], list[str]] | None = None
    check: Callable[[typing.Any], None] | None = None
    unsupported: str | None = None


def _input_attachments(params) -> list[str]:
    return list(params.input.attachments)


RULES: dict[type, Rule] = {
    ThreadsCreateReq: Rule(attachments=_input_attachments, claims=True),
    ThreadsAddUserMessageReq: Rule(thread=True, turn=True, claims=True, attachments=_input_attachments),
    ThreadsAddClientToolOutputReq: Rule(thread=True, turn=True, claims=True),
    ThreadsAddStructuredInputReq: Rule(
        thread=True, turn=True, claims=True, items=lambda p: [p.item_id], item_type="structured_input"
    ),
    ThreadsRetryAfterItemReq: Rule(
        thread=True, turn=True, claims=True, items=lambda p: [p.item_id], item_type="user_message"
    ),
    ThreadsCustomActionReq: Rule(
        thread=True, turn=True, claims=True, items=lambda p: [p.item_id] if p.item_id else [], item_type="widget"
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

    Runs at most three small queries. Checks the bounds first
    (:func:`check_bounds`), before any query. A request that runs a turn
    (``Rule.claims``) claims its thread in the same statement that reads it
    (:func:`chat.turns.claim`); a check that fails afterwards releases it.
    Records the thread in ``context.known_threads`` so the store skips its own
    check later. Fills a user message's ``inference_options.model`` with the
    model that will answer it, so the stored message records it.

    Raises:
        NotFoundError: an id that is missing or belongs to another owner.
        ThreadBusy: another turn is running in the thread (409).
        BadRequest: a request out of bounds, or one the server can't serve (an unsupported type, a
            model not on ``CHATKIT_MODELS``, retry of a non-user message, an
            unregistered action or a payload of the wrong shape, tool output
            with no pending call, a sync action in a locked thread).
    """
    rule = RULES[type(request)]
    params = getattr(request, "params", None)
    if rule.unsupported:
        raise BadRequest(rule.unsupported, code="unsupported")
    check_bounds(request)
    if rule.check:
        try:
            rule.check(params)
        except UploadRefused as exc:
            raise BadRequest(exc.message, code=exc.code, status=exc.status) from None

    refusal = None
    thread_id = params.thread_id if rule.thread else None
    turn_id = turns.new_turn_id() if rule.claims else None
    if rule.thread:
        data = turns.claim(thread_id, context.owner, turn_id) if turn_id else None
        if data is not None:
            row = (models.ThreadStatus.ACTIVE, data)
            context.turn.id, context.turn.thread_id = turn_id, thread_id
        else:  # no claim wanted, or none made: read the row to know why
            row = (
                models.Thread.objects.owned_by(context.owner).filter(id=thread_id).values_list("status", "data").first()
            )
            if row is None:
                raise NotFoundError(f"Thread {thread_id} not found")
            if turn_id and row[0] == models.ThreadStatus.ACTIVE:  # active, so the claim is another turn's
                raise turns.ThreadBusy()
        context.known_threads.add(thread_id, row[1])
        if rule.turn and row[0] != models.ThreadStatus.ACTIVE:  # only then is the JSON worth validating
            refusal = refusal_for(ThreadMetadata.model_validate(row[1]))
    elif turn_id:  # threads.create: the store claims the thread as it creates it
        context.turn.id = turn_id

    try:
        return _check_ids_and_state(request, rule, thread_id, refusal, context)
    except BaseException:
        turns.release_now(context)
        raise


def _check_ids_and_state(
    request: ChatKitReq, rule: Rule, thread_id: str | None, refusal: str | None, context: RequestContext
) -> CheckedRequest:
    params = getattr(request, "params", None)

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
    if isinstance(request, ThreadsRetryAfterItemReq):
        context.turn.replaced = set()  # the old answer goes with the new one's first item
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
            raise BadRequest(
                f"Attachment {attachment_id} has no file yet: upload it first.", code="attachment_not_uploaded"
            )
        if attached_to and attached_to != thread_id:
            raise BadRequest(
                f"Attachment {attachment_id} belongs to another thread.", code="attachment_in_other_thread"
            )


def check_bounds(request: ChatKitReq) -> None:
    """Refuse sizes out of bounds before anything is read or stored (400 naming the field).

    * ``params.limit`` of ``threads.list`` / ``items.list``: 1 to
      ``CHATKIT_MAX_PAGE_SIZE`` (or absent: the SDK's default page);
    * a new user message (``params.input``): some text, a tag or an
      attachment (code ``empty_message``), and at most
      ``CHATKIT_MAX_MESSAGE_CHARS`` characters of text (``message_too_long``);
    * ``threads.update``'s ``params.title``: at most ``CHATKIT_MAX_TITLE_CHARS``
      (``title_too_long``).

    Action payloads are checked against their registered shape later
    (:func:`_check_action`). Raises ``BadRequest``.
    """
    params = getattr(request, "params", None)
    if isinstance(request, (ThreadsListReq, ItemsListReq)) and params.limit is not None:
        most = app_settings.CHATKIT_MAX_PAGE_SIZE
        if not 1 <= params.limit <= most:
            raise BadRequest(
                f"params.limit: must be between 1 and {most}, not {params.limit}.",
                code="invalid_limit",
                field="params.limit",
            )
    if isinstance(request, (ThreadsCreateReq, ThreadsAddUserMessageReq)):
        message = params.input
        texts = [part.text for part in message.content if part.type == "input_text"]
        has_tag = any(part.type == "input_tag" for part in message.content)
        if not any(text.strip() for text in texts) and not has_tag and not message.attachments:
            raise BadRequest(
                "params.input.content: the message is empty; write something.",
                code="empty_message",
                field="params.input.content",
            )
        most = app_settings.CHATKIT_MAX_MESSAGE_CHARS
        length = sum(len(text) for text in texts) + len(message.quoted_text or "")
        if length > most:
            raise BadRequest(
                f"params.input.content: the message has {length} characters; at most {most} are accepted.",
                code="message_too_long",
                field="params.input.content",
            )
    if isinstance(request, ThreadsUpdateReq):
        most = app_settings.CHATKIT_MAX_TITLE_CHARS
        if len(params.title) > most:
            raise BadRequest(
                f"params.title: a title has at most {most} characters, not {len(params.title)}.",
                code="title_too_long",
                field="params.title",
            )


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
