"""The ``ChatKitServer`` subclass: respond, action, sync_action, feedback, cancel.

Rules it follows (DESIGN.md and openai-chatkit 1.6):

* ``respond()`` builds the model input from the newest ``CHATKIT_HISTORY_ITEMS``
  stored items, runs the Agent streamed and converts its events with the
  SDK's ``stream_agent_response``. The SDK persists items itself on
  ``thread.item.done/replaced/removed``; nothing here writes them again.
* Errors become ``error`` events: ``CustomStreamError`` with a message a
  person can act on; the user's message is already saved, so retry works.
* Chat Completions models give every message the id ``__fake_id__``; each
  such message gets a store id, consistently across added/updated/done.
* A locked or closed thread refuses new turns and actions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from agents import Model, RunConfig, Runner
from agents.models.fake_id import FAKE_RESPONSES_ID
from asgiref.sync import sync_to_async
from chatkit.actions import Action
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import (
    ChatKitReq,
    FeedbackKind,
    InferenceOptions,
    ProgressUpdateEvent,
    SyncCustomActionResponse,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
    is_streaming_req,
)
from django.conf import settings

from . import models
from .agents import QUICK_REPLY_ACTION, agent_for, build_agent
from .context import RequestContext
from .converter import ChatConverter
from .store import DjangoAttachmentStore, DjangoStore
from .threads import refusal_for, title_from_text

logger = logging.getLogger(__name__)

class _FakeIdRewriter:
    """Give ``__fake_id__`` assistant items a real store id, the same one on every event."""

    def __init__(self, store: DjangoStore, thread: ThreadMetadata, context: RequestContext):
        self._new_id = lambda: store.generate_item_id("message", thread, context)
        self._current: str | None = None

    def __call__(self, event: ThreadStreamEvent) -> ThreadStreamEvent:
        if isinstance(event, ThreadItemAddedEvent) and event.item.id == FAKE_RESPONSES_ID:
            self._current = self._new_id()
            event.item.id = self._current
        elif isinstance(event, ThreadItemUpdatedEvent) and event.item_id == FAKE_RESPONSES_ID:
            self._current = self._current or self._new_id()
            event.item_id = self._current
        elif isinstance(event, ThreadItemDoneEvent) and event.item.id == FAKE_RESPONSES_ID:
            event.item.id = self._current or self._new_id()
            self._current = None
        return event


class ChatServer(ChatKitServer[RequestContext]):
    """The ChatKit server of this project.

    Args:
        store: the thread/item store (default :class:`DjangoStore`).
        model: an ``agents.Model`` to answer with; ``None`` means the one
            ``settings.CHATKIT_MODEL`` names, looked up on each turn.
    """

    def __init__(self, store: DjangoStore | None = None, *, model: Model | None = None):
        super().__init__(store or DjangoStore(), DjangoAttachmentStore())
        self.converter = ChatConverter()
        self._agent = build_agent(model) if model is not None else None

    # --- request entry points ----------------------------------------------

    async def process(self, request: str | bytes | bytearray, context: RequestContext):
        """Parse with the process-wide adapter, then dispatch (see :meth:`process_request`)."""
        from .protocol import REQUEST_ADAPTER

        return await self.process_request(REQUEST_ADAPTER.validate_json(request), context)

    async def process_request(
        self, request: ChatKitReq, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        """Dispatch an already parsed request, like ``ChatKitServer.process`` does.

        Lets the view parse and check a request once, before any streaming.
        """
        if is_streaming_req(request):
            return StreamingResult(self._process_streaming(request, context))
        return NonStreamingResult(await self._process_non_streaming(request, context))

    # --- respond -------------------------------------------------------------

    def agent(self):
        """The Agent for this turn (the fixed one, or the settings' model)."""
        return self._agent or agent_for(settings.CHATKIT_MODEL)

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        refusal = refusal_for(thread)
        if refusal:
            raise CustomStreamError(refusal, allow_retry=False)

        if input_user_message is not None and not thread.title:
            text = " ".join(p.text for p in input_user_message.content if p.type == "input_text")
            thread.title = title_from_text(text)  # the SDK saves it and sends thread.updated

        history = await self.store.load_thread_items(
            thread.id, None, settings.CHATKIT_HISTORY_ITEMS, "desc", context
        )
        model_input = await self.converter.to_agent_input(list(reversed(history.data)))

        try:
            # A clone per turn: openai-agents checks a shared Agent's tools
            # against every other open run, a cost that grows with the streams.
            agent = self.agent().clone()
        except Exception as exc:  # a bad CHATKIT_MODEL, a missing key: retrying won't help
            logger.exception("No model to answer with")
            raise CustomStreamError(f"The model is not configured: {exc}", allow_retry=False) from exc
        if getattr(agent.model, "is_busy", lambda: False)():
            yield ProgressUpdateEvent(icon="clock", text="Waiting for the local model: another answer is being written…")

        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        result = Runner.run_streamed(
            agent,
            model_input,
            context=agent_context,
            run_config=RunConfig(tracing_disabled=not settings.CHATKIT_TRACING),
        )
        events = stream_agent_response(agent_context, result)
        rewrite = _FakeIdRewriter(self.store, thread, context)
        try:
            while True:
                # The timeout covers waiting for the model, never our own yield.
                try:
                    async with asyncio.timeout(settings.CHATKIT_MODEL_TIMEOUT):
                        event = await anext(events)
                except StopAsyncIteration:
                    break
                yield rewrite(event)
        except TimeoutError:
            result.cancel()
            raise CustomStreamError(
                f"The model did not answer within {settings.CHATKIT_MODEL_TIMEOUT:g} seconds. Try again.",
                allow_retry=True,
            ) from None
        except (CustomStreamError, asyncio.CancelledError):
            raise
        except Exception as exc:
            logger.exception("Model run failed in thread %s", thread.id)
            message, allow_retry = model_error(exc)
            raise CustomStreamError(message, allow_retry=allow_retry) from exc
        finally:
            if not result.is_complete:
                result.cancel()  # stops the model (and frees the local one) on any early exit
            await events.aclose()

    # --- actions -------------------------------------------------------------

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """``threads.custom_action``: a quick-reply button sends its text as the user's turn.

        Raises ``CustomStreamError`` for a locked thread or an unknown action type.
        """
        refusal = refusal_for(thread)
        if refusal:
            raise CustomStreamError(refusal, allow_retry=False)
        if action.type != QUICK_REPLY_ACTION:
            raise CustomStreamError(f"Unknown action {action.type!r}.", allow_retry=False)
        text = str((action.payload or {}).get("text", "")).strip()
        if not text:
            raise CustomStreamError("This button sends no text.", allow_retry=False)
        message = UserMessageItem(
            id=self.store.generate_item_id("message", thread, context),
            thread_id=thread.id,
            created_at=datetime.now(),
            content=[UserMessageTextContent(text=text)],
            inference_options=InferenceOptions(),
        )
        yield ThreadItemDoneEvent(item=message)  # the SDK saves it
        async for event in self.respond(thread, message, context):
            yield event

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> SyncCustomActionResponse:
        """``threads.sync_custom_action``: ``chat.dismiss`` removes a widget's buttons.

        Returns the updated widget item (saved). Raises ``ValueError`` for an
        unknown action or a missing widget; the view answers 400.
        """
        refusal = refusal_for(thread)
        if refusal:
            raise ValueError(refusal)
        if action.type != "chat.dismiss" or sender is None:
            raise ValueError(f"Unknown sync action {action.type!r} (or no widget sent it).")
        root = sender.widget.model_dump(exclude_none=True)
        root["children"] = [c for c in root.get("children", []) if c.get("type") != "Row"]
        updated = sender.model_copy(update={"widget": type(sender.widget).model_validate(root)})
        await self.store.save_item(thread.id, updated, context)
        return SyncCustomActionResponse(updated_item=updated)

    # --- feedback --------------------------------------------------------------

    async def add_feedback(
        self, thread_id: str, item_ids: list[str], feedback: FeedbackKind, context: RequestContext
    ) -> None:
        """Store ``items.feedback`` (the latest kind per item wins).

        Raises ``NotFoundError`` if the thread or any item is not the owner's.
        """
        await sync_to_async(save_feedback)(thread_id, item_ids, feedback, context)


def save_feedback(thread_id: str, item_ids: list[str], kind: str, context: RequestContext) -> None:
    """Upsert one :class:`chat.models.Feedback` row per item, in one statement."""
    ids = set(item_ids)
    found = models.Item.objects.filter(thread_id=thread_id, owner=context.owner, id__in=ids).count()
    if found != len(ids):
        raise NotFoundError(f"Item not found in thread {thread_id}")
    models.Feedback.objects.bulk_create(
        [models.Feedback(thread_id=thread_id, item_id=i, owner=context.owner, kind=kind) for i in ids],
        update_conflicts=True,
        unique_fields=["thread", "item_id"],
        update_fields=["kind", "created_at"],
    )


def model_error(exc: Exception) -> tuple[str, bool]:
    """A message a person can act on for a failed model call, and whether a retry can help."""
    import openai

    from .llm.weights import WeightsError

    if isinstance(exc, WeightsError):
        return f"The embedded model can't be loaded: {exc}", False
    if isinstance(exc, openai.AuthenticationError):
        return "The model provider refused the API key. Check OPENAI_API_KEY.", False
    if isinstance(exc, openai.RateLimitError):
        return "The model provider is rate-limiting requests. Wait a moment and retry.", True
    if isinstance(exc, openai.APIConnectionError):
        return "The model server could not be reached. Check OPENAI_BASE_URL and retry.", True
    if isinstance(exc, openai.APIStatusError):
        return f"The model server answered with HTTP {exc.status_code}. Retry, or check its logs.", True
    return "The model failed while writing the answer. Retry, or check the server log.", True


_server: ChatServer | None = None


def get_server() -> ChatServer:
    """The process-wide :class:`ChatServer` (created on first use)."""
    global _server
    if _server is None:
        _server = ChatServer()
    return _server

