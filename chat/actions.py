"""Widget actions: one decorated function per action type (docs/architecture.md, "Actions").

A widget's button (``ActionConfig(type=..., payload=...)``) sends
``threads.custom_action`` (streamed) or ``threads.sync_custom_action`` (JSON,
usable while an answer is still streaming). Each type the server handles is
registered here::

    from chat.actions import ActionContext, action

    class Vote(pydantic.BaseModel):
        choice: str

    @action("poll.vote", payload=Vote)
    async def vote(ctx: ActionContext):
        ...  # yield ThreadStreamEvents; ctx.payload is a Vote

    @action("poll.close", payload=None, sync=True)
    async def close(ctx: ActionContext) -> SyncCustomActionResponse: ...

Import the module that holds your actions from your app's ``AppConfig.ready()``
(or from your ``CHATKIT_AGENT`` module). The request check
(:mod:`chat.protocol`) refuses, before anything streams, an action type that
is not registered (400 ``unknown_action``), a payload of the wrong shape (400
naming the field) and any action in a locked or closed thread; handlers only
ever see a valid payload in an active thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chatkit.actions import Action
from chatkit.types import (
    InferenceOptions,
    ThreadItemDoneEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
)
from django.core.exceptions import ImproperlyConfigured
from pydantic import BaseModel, Field

from .context import RequestContext

if TYPE_CHECKING:
    from .server import ChatServer


@dataclass(frozen=True, slots=True)
class ActionContext:
    """What an action handler gets.

    Attributes:
        thread: the thread the widget is in (active: the check refused others).
        action: the SDK's ``Action`` as sent.
        payload: ``action.payload`` validated by the registered payload model
            (an instance of it), or the raw payload when none was registered.
        sender: the widget item that sent it, or ``None``.
        context: the request's owner context.
        server: the :class:`~chat.server.ChatServer` (its ``store``, ``respond``).
    """

    thread: ThreadMetadata
    action: Action[str, Any]
    payload: Any
    sender: WidgetItem | None
    context: RequestContext
    server: ChatServer


@dataclass(frozen=True, slots=True)
class RegisteredAction:
    """One registry entry: the handler of an action type and the shape of its payload."""

    type: str
    handler: Callable[[ActionContext], Any]
    payload: type[BaseModel] | None
    sync: bool

    def parse_payload(self, raw: Any) -> Any:
        """The payload as the handler gets it. Raises pydantic's ``ValidationError``."""
        return raw if self.payload is None else self.payload.model_validate(raw if raw is not None else {})


_registry: dict[tuple[str, bool], RegisteredAction] = {}


def action(type_: str, *, payload: type[BaseModel] | None = None, sync: bool = False):
    """Register the decorated coroutine as the handler of widget actions of type ``type_``.

    Args:
        type_: the ``ActionConfig.type`` the widget sends (e.g. ``"chat.reply"``).
        payload: a pydantic model the payload must match; ``None`` takes any payload.
        sync: ``True`` for ``threads.sync_custom_action`` (the handler returns a
            ``SyncCustomActionResponse``); ``False`` for ``threads.custom_action``
            (an async generator of ``ThreadStreamEvent``).

    Raises ``ImproperlyConfigured`` when another function already handles ``type_``.
    """

    def register(handler):
        key = (type_, sync)
        existing = _registry.get(key)
        if existing and existing.handler.__qualname__ != handler.__qualname__:
            raise ImproperlyConfigured(f"Action {type_!r} is already handled by {existing.handler.__qualname__}")
        _registry[key] = RegisteredAction(type=type_, handler=handler, payload=payload, sync=sync)
        return handler

    return register


def find_action(type_: str, *, sync: bool) -> RegisteredAction | None:
    """The registered handler for ``type_`` (streaming or sync), or ``None``."""
    return _registry.get((type_, sync))


def registered_actions() -> list[RegisteredAction]:
    """Every registered action, sorted by type (for the admin and the docs)."""
    return sorted(_registry.values(), key=lambda entry: (entry.type, entry.sync))


# --- the built-in actions ---------------------------------------------------------

QUICK_REPLY_ACTION = "chat.reply"


class QuickReply(BaseModel):
    """The payload of a quick-reply button (``show_quick_replies`` in :mod:`chat.agents`)."""

    text: str = Field(min_length=1, max_length=500, description="the answer the button sends")


@action(QUICK_REPLY_ACTION, payload=QuickReply)
async def quick_reply(ctx: ActionContext) -> AsyncIterator[ThreadStreamEvent]:
    """A quick-reply button sends its text as the user's next message, and the agent answers it."""
    message = UserMessageItem(
        id=ctx.server.store.generate_item_id("message", ctx.thread, ctx.context),
        thread_id=ctx.thread.id,
        created_at=datetime.now(),
        content=[UserMessageTextContent(text=ctx.payload.text.strip())],
        inference_options=InferenceOptions(),
    )
    yield ThreadItemDoneEvent(item=message)  # the SDK saves it
    async for event in ctx.server.respond(ctx.thread, message, ctx.context):
        yield event
