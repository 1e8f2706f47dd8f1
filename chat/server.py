"""The ``ChatKitServer`` subclass: respond, action, sync_action, feedback.

Rules it follows (docs/architecture.md and openai-chatkit 1.6):

* Requests reach it parsed and checked (:mod:`chat.protocol`): ids are the
  owner's, the thread accepts turns, actions are registered. It trusts that.
* ``respond()`` builds the model input from the newest ``CHATKIT_HISTORY_ITEMS``
  stored items, runs the ``CHATKIT_AGENT`` Agent streamed and converts its
  events with the SDK's ``stream_agent_response``. The SDK persists items
  itself on ``thread.item.done/replaced/removed``; nothing here writes them again.
  Server tool calls, which the SDK keeps no item for, are recorded in their
  own table (:mod:`chat.tool_log`).
* Errors become ``error`` events: ``CustomStreamError`` with a message a
  person can act on (:func:`chat.llm.model_error`); the user's message is
  already saved, so retry works.
* Chat Completions models give every message the id ``__fake_id__``; each
  such message gets a store id, consistently across added/updated/done.
* Every answer is capped at ``CHATKIT_MAX_OUTPUT_TOKENS`` and one that hits the
  cap ends with a visible marker (:mod:`chat.cutoff`).
* Widget actions go to their handler in the registry (:mod:`chat.actions`).
* A turn runs alone in its thread (:mod:`chat.turns`). The answer being
  streamed is kept in ``context.turn.pending``: heartbeats save it as it grows
  (:meth:`ChatServer.progress_write`), and when the turn stops early (model
  timeout or error, cancel, shutdown) what was streamed is saved, marked
  cut off (:func:`chat.threads.cut_off`). A thread deleted meanwhile ends the turn quietly.
* Each turn's agent also gets a tool per enabled widget template
  (:mod:`chat.widgets.tools`); a run that stops for a tool call's approval
  ends with an approval card and resumes in :meth:`ChatServer.resume`
  (:mod:`chat.approvals`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from agents import Agent, FunctionTool, Model, RunConfig, Runner
from asgiref.sync import sync_to_async
from chatkit.actions import Action
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ChatKitReq,
    FeedbackKind,
    ProgressUpdateEvent,
    SyncCustomActionResponse,
    ThreadItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadsAddUserMessageReq,
    ThreadStreamEvent,
    UserMessageInput,
    UserMessageItem,
    WidgetItem,
    is_streaming_req,
)

from . import approvals, compat, db, live, starts
from .actions import ActionContext, find_action
from .agents import agent_for, build_agent
from .attachments import DjangoAttachmentStore, accepts_images
from .conf import app_settings
from .context import RequestContext
from .converter import ChatConverter
from .cutoff import capped, mark_cut_off, output_cap
from .llm import model_error, model_supports_tools
from .store import DjangoStore, save_feedback
from .threads import cut_off, has_text, title_from_text
from .tool_log import ToolCallRecorder
from .widgets.tools import enabled_template_tools, template_tools

logger = logging.getLogger(__name__)


class _FakeIdRewriter:
    """Give ``__fake_id__`` assistant items a real store id, the same one on every event."""

    def __init__(self, store: DjangoStore, thread: ThreadMetadata, context: RequestContext):
        self._new_id = lambda: store.generate_item_id("message", thread, context)
        self._current: str | None = None

    def __call__(self, event: ThreadStreamEvent) -> ThreadStreamEvent:
        if isinstance(event, ThreadItemAddedEvent) and event.item.id == compat.FAKE_RESPONSES_ID:
            self._current = self._new_id()
            event.item.id = self._current
        elif isinstance(event, ThreadItemUpdatedEvent) and event.item_id == compat.FAKE_RESPONSES_ID:
            self._current = self._current or self._new_id()
            event.item_id = self._current
        elif isinstance(event, ThreadItemDoneEvent) and event.item.id == compat.FAKE_RESPONSES_ID:
            event.item.id = self._current or self._new_id()
            self._current = None
        return event


def track_answer(context: RequestContext, event: ThreadStreamEvent) -> None:
    """Follow the assistant message being streamed in ``context.turn.pending`` (a copy, built from the deltas)."""
    turn = context.turn
    if isinstance(event, ThreadItemAddedEvent) and isinstance(event.item, AssistantMessageItem):
        turn.pending, turn.saved_chars = event.item.model_copy(deep=True), 0
    elif isinstance(event, ThreadItemUpdatedEvent) and turn.pending is not None and event.item_id == turn.pending.id:
        update, content = event.update, turn.pending.content
        if isinstance(
            update,
            (AssistantMessageContentPartAdded, AssistantMessageContentPartTextDelta, AssistantMessageContentPartDone),
        ):
            while len(content) <= update.content_index:
                content.append(AssistantMessageContent(text=""))
            if isinstance(update, AssistantMessageContentPartTextDelta):
                content[update.content_index].text += update.delta
            else:
                content[update.content_index] = update.content.model_copy(deep=True)
    elif isinstance(event, ThreadItemDoneEvent) and turn.pending is not None and event.item.id == turn.pending.id:
        turn.pending = None  # the SDK saves the whole answer now


class ChatServer(ChatKitServer[RequestContext]):
    """The ChatKit server of this project.

    Args:
        store: the thread/item store (default :class:`DjangoStore`).
        model: an ``agents.Model`` to answer every turn with (tests); ``None``
            means the model each turn names (its user message's
            ``inference_options.model``, else ``CHATKIT_MODEL``).
    """

    def __init__(self, store: DjangoStore | None = None, *, model: Model | None = None):
        complete_sdk_models()
        super().__init__(store or DjangoStore(), DjangoAttachmentStore())
        self.converter = ChatConverter()
        # For models that read no images: told an image was attached, and its name.
        self.text_converter = ChatConverter(images=False)
        self._agent = build_agent(model) if model is not None else None

    # --- request entry points ----------------------------------------------

    async def process(self, request: str | bytes | bytearray, context: RequestContext):
        """Parse with the process-wide adapter, then dispatch (see :meth:`process_request`).

        Unlike the view, this does not run the request check: use it only
        with requests you trust (benchmarks, tests of the SDK's contract).
        """
        from .protocol import REQUEST_ADAPTER

        return await self.process_request(REQUEST_ADAPTER.validate_json(request), context)

    async def process_request(
        self, request: ChatKitReq, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        """Dispatch an already parsed request, like ``ChatKitServer.process`` does.

        Lets the view parse and check a request once, before any streaming.
        """
        if is_streaming_req(request):
            # Every other connection watching the thread sees the turn too (chat.live).
            thread_id = getattr(request.params, "thread_id", None)
            # A pooled connection goes back to the pool after each write, not at the stream's end (chat.db).
            after_write = sync_to_async(db.release_connection) if db.pooled() else None
            frames = compat.process_streaming(self, request, context)
            return StreamingResult(live.relayed(frames, thread_id, after_write))
        return NonStreamingResult(await compat.process_non_streaming(self, request, context))

    # --- the user's message, saved with the claim -------------------------------

    def saves_user_message_first(self, request: ChatKitReq) -> bool:
        """Whether :meth:`save_user_message` will save ``request``'s message in the request check's hop.

        For ``threads.add_user_message`` without attachments, on the
        :class:`DjangoStore` (the SDK re-saves attachments once they have a
        thread; another store keeps the SDK's own order).
        """
        return (
            isinstance(request, ThreadsAddUserMessageReq)
            and not request.params.input.attachments
            and isinstance(self.store, DjangoStore)
        )

    def save_user_message(self, request: ThreadsAddUserMessageReq, context: RequestContext) -> None:
        """Build and save a turn's user message right after its claim, in the same worker-thread hop. Sync.

        The SDK would save it in a hop of its own once the stream has started,
        before its first event (``thread.item.done`` of this message); here the
        view's request check does it (:func:`chat.views._prepare`), so the
        first event waits for one hop less (issue 15). The item
        is built as ``ChatKitServer._build_user_message_item`` builds it; the
        SDK then takes this very item (:meth:`_build_user_message_item`) and
        the store skips saving it again. Needs the claim made
        (``context.turn.id``) and :meth:`saves_user_message_first`.
        """
        thread_id, input = request.params.thread_id, request.params.input
        thread = ThreadMetadata.model_validate(context.known_threads.row(thread_id))
        message = UserMessageItem(  # as chatkit 1.6.5's ChatKitServer._build_user_message_item builds it
            id=self.store.generate_item_id("message", thread, context),
            content=input.content,
            thread_id=thread_id,
            attachments=[],
            quoted_text=input.quoted_text,
            inference_options=input.inference_options,
            created_at=datetime.now(),
        )
        self.store.write_item(thread_id, message, context)
        context.turn.user_message = message

    async def _build_user_message_item(
        self, input: UserMessageInput, thread: ThreadMetadata, context: RequestContext
    ) -> UserMessageItem:
        """The SDK's builder of a turn's user message (private, chat/compat.py), taking the one already saved."""
        saved = context.turn.user_message
        if saved is not None and saved.thread_id == thread.id:
            return saved
        return await super()._build_user_message_item(input, thread, context)

    # --- respond -------------------------------------------------------------

    def agent(self, spec: str | None = None) -> Agent:
        """The Agent for a turn: the fixed one, or ``CHATKIT_AGENT``'s on model ``spec``.

        ``spec`` defaults to ``CHATKIT_MODEL``. Raises ``ImproperlyConfigured``
        for a spec or agent path that doesn't resolve.
        """
        return self._agent or agent_for(spec or app_settings.CHATKIT_MODEL)

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        if context.turn.gone:  # the thread was deleted before the model started
            return
        if input_user_message is not None and not thread.title:
            text = " ".join(p.text for p in input_user_message.content if p.type == "input_text")
            thread.title = title_from_text(text)  # the SDK saves it and sends thread.updated

        history, templates = await self._history_and_templates(thread.id, context)
        spec = turn_model(input_user_message, history)
        try:
            agent = await self.turn_agent(spec, templates)
        except Exception as exc:  # a bad model spec, a missing key: retrying won't help
            logger.exception("No model to answer with")
            raise CustomStreamError(f"The model is not configured: {exc}", allow_retry=False) from exc
        converter = self.converter if accepts_images(agent.model) else self.text_converter
        model_input = await converter.to_agent_input(history)
        del history  # converted: not kept alive, for each open stream, while the answer streams
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        async for event in self._run(thread, agent, model_input, agent_context, spec):
            yield event

    async def _history_and_templates(
        self, thread_id: str, context: RequestContext
    ) -> tuple[list[ThreadItem], list[FunctionTool]]:
        """A turn's newest ``CHATKIT_HISTORY_ITEMS`` items (oldest first) and the enabled widget templates' tools.

        One worker-thread hop for both on the :class:`DjangoStore` (issue 15:
        every hop before the model starts is felt by every turn); another
        store is read through the ``Store`` API.
        """
        limit = app_settings.CHATKIT_HISTORY_ITEMS
        if isinstance(self.store, DjangoStore):
            store = self.store

            def read() -> tuple[Any, list[FunctionTool]]:
                return store.read_items(thread_id, None, limit, "desc", context), enabled_template_tools()

            page, templates = await sync_to_async(read)()
        else:
            page = await self.store.load_thread_items(thread_id, None, limit, "desc", context)
            templates = await template_tools()
        return list(reversed(page.data)), templates

    async def turn_agent(self, spec: str | None, templates: list[FunctionTool] | None = None) -> Agent:
        """The Agent of one turn: a clone of :meth:`agent`'s, capped, plus a tool per enabled widget template.

        A clone per turn: openai-agents checks a shared Agent's tools against
        every other open run, a cost that grows with the streams. The widget
        tools are read per turn, so enabling a template in the admin reaches
        the next turn; models that can't call tools get none. The output cap
        (:mod:`chat.cutoff`) applies to every turn. ``templates``: those tools
        if the caller has read them already (else they are read here).
        """
        agent = self.agent(spec)
        tools = list(agent.tools)
        if self._agent is not None or model_supports_tools(spec or app_settings.CHATKIT_MODEL):
            names = {tool.name for tool in tools}
            if templates is None:
                templates = await template_tools()
            tools += [tool for tool in templates if tool.name not in names]
        return capped(agent, tools=tools)

    async def resume(
        self, thread: ThreadMetadata, approval, approve: bool, context: RequestContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Continue a run paused for approval (:mod:`chat.approvals`) with the decision applied.

        Works in any process: the run comes back from its stored ``RunState``.
        """
        spec = approval.model or None
        try:
            agent = await self.turn_agent(spec)
            agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
            state = await approvals.restore(agent, approval, agent_context, approve)
        except Exception as exc:
            logger.exception("Could not resume the paused run %s", approval.id)
            raise CustomStreamError(f"The paused answer could not be resumed: {exc}", allow_retry=False) from exc
        async for event in self._run(thread, agent, state, agent_context, spec):
            yield event

    async def _run(
        self, thread: ThreadMetadata, agent: Agent, run_input, agent_context: AgentContext, spec: str | None
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Run ``agent`` streamed on ``run_input`` (model input, or a ``RunState`` to resume) as ChatKit events.

        Tracks the answer being streamed for heartbeats and cut-off saves
        (:mod:`chat.turns`), records server tool calls (:mod:`chat.tool_log`),
        marks an answer the output cap cut (:mod:`chat.cutoff`), and ends a run
        that stops for approval with the approval card (:mod:`chat.approvals`).
        """
        context = agent_context.request_context
        if getattr(agent.model, "is_busy", lambda: False)():
            yield ProgressUpdateEvent(
                icon="clock", text="Waiting for the local model: another answer is being written…"
            )
        if db.pooled():  # don't keep a pooled connection borrowed while the model writes (chat.db)
            await sync_to_async(db.release_connection)()
        tool_calls = ToolCallRecorder(thread.id, context.owner)  # the SDK keeps no item for them
        result = Runner.run_streamed(
            agent,
            run_input,
            context=agent_context,
            run_config=RunConfig(tracing_disabled=not app_settings.CHATKIT_TRACING),
            hooks=tool_calls,
        )
        starts.started(context)  # the run is launched (its model call follows in its task): the next may start
        events = mark_cut_off(stream_agent_response(agent_context, result), result, output_cap(agent))
        rewrite = _FakeIdRewriter(self.store, thread, context)
        try:
            while True:
                # The timeout covers waiting for the model, never our own yield.
                try:
                    async with asyncio.timeout(app_settings.CHATKIT_MODEL_TIMEOUT):
                        event = await anext(events)
                except StopAsyncIteration:
                    break
                event = rewrite(event)
                track_answer(context, event)
                yield event
                if context.turn.gone:  # deleted meanwhile: stop the model, write nothing more
                    return
            if result.interruptions:
                tools = {tool.name: tool for tool in agent.tools}
                async for event in approvals.pause(self, thread, agent_context, result, model=spec, tools=tools):
                    yield event
        except TimeoutError:
            result.cancel()
            await self.save_cut_off(thread.id, context)
            raise CustomStreamError(
                f"The model did not answer within {app_settings.CHATKIT_MODEL_TIMEOUT:g} seconds. Try again.",
                allow_retry=True,
            ) from None
        except asyncio.CancelledError:
            raise  # the SDK saves the partial answer (handle_stream_cancelled)
        except CustomStreamError:
            await self.save_cut_off(thread.id, context)
            raise
        except Exception as exc:
            logger.exception("Model run failed in thread %s", thread.id)
            await self.save_cut_off(thread.id, context)
            message, allow_retry = model_error(exc)
            raise CustomStreamError(message, allow_retry=allow_retry) from exc
        finally:
            if not result.is_complete:
                result.cancel()  # stops the model (and frees the local one) on any early exit
            await events.aclose()
            await tool_calls.flush()

    # --- an answer cut short ---------------------------------------------------

    async def save_cut_off(self, thread_id: str, context: RequestContext) -> None:
        """Save the answer streamed so far (``context.turn.pending``), marked cut off; nothing if it is blank."""
        pending, context.turn.pending = context.turn.pending, None
        if pending is not None and has_text(pending):
            await self.store.add_thread_item(thread_id, cut_off(pending), context)

    def progress_write(self, context: RequestContext) -> Callable[[], None] | None:
        """A heartbeat's write (:func:`chat.turns.running`): saves the answer so far, marked cut off until it is done.

        Called on the event loop; returns the sync write for the heartbeat's
        worker-thread hop, or ``None`` when there is nothing new (no text yet,
        or none added since the last heartbeat). Once the SDK saves the whole
        answer, the mark is gone.
        """
        turn = context.turn
        pending = turn.pending
        if pending is None or turn.gone or not has_text(pending):
            return None
        chars = sum(len(part.text) for part in pending.content)
        if chars == turn.saved_chars:
            return None
        turn.saved_chars = chars
        # The copy is made here, on the event loop, before the write is queued behind the turn's other writes.
        return functools.partial(self.store.write_item, turn.thread_id, cut_off(pending), context)

    async def handle_stream_cancelled(
        self, thread: ThreadMetadata, pending_items: list[ThreadItem], context: RequestContext
    ) -> None:
        """The SDK's cancel handling (it saves the partial answer), with that answer marked cut off.

        The saved answer then goes to the thread's other watchers (:mod:`chat.live`).
        """
        context.turn.pending = None  # saved here: no heartbeat may write it again
        marked = [
            cut_off(item) if isinstance(item, AssistantMessageItem) and has_text(item) else item
            for item in pending_items
        ]
        await super().handle_stream_cancelled(thread, marked, context)
        for item in marked:
            if isinstance(item, AssistantMessageItem) and has_text(item):
                live.publish_item_done(thread.id, item)

    # --- actions -------------------------------------------------------------

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """``threads.custom_action``: the registered handler's events (:mod:`chat.actions`).

        Raises ``CustomStreamError`` for an unregistered type (the request
        check refuses those first, with a 400).
        """
        handler = find_action(action.type, sync=False)
        if handler is None:
            raise CustomStreamError(f"Unknown action {action.type!r}.", allow_retry=False)
        ctx = ActionContext(thread, action, handler.parse_payload(action.payload), sender, context, self)
        async for event in handler.handler(ctx):
            yield event

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> SyncCustomActionResponse:
        """``threads.sync_custom_action``: the registered sync handler's answer.

        Raises ``ValueError`` for an unregistered type (the view answers 400;
        the request check refuses those first).
        """
        handler = find_action(action.type, sync=True)
        if handler is None:
            raise ValueError(f"Unknown sync action {action.type!r}.")
        ctx = ActionContext(thread, action, handler.parse_payload(action.payload), sender, context, self)
        return await handler.handler(ctx)

    # --- feedback --------------------------------------------------------------

    async def add_feedback(
        self, thread_id: str, item_ids: list[str], feedback: FeedbackKind, context: RequestContext
    ) -> None:
        """Store ``items.feedback`` (the latest kind per item wins).

        Raises ``NotFoundError`` if the thread or any item is not the owner's.
        """
        await sync_to_async(save_feedback)(thread_id, item_ids, feedback, context)


def turn_model(message: UserMessageItem | None, history: list[ThreadItem]) -> str | None:
    """The model spec a turn answers with: its user message's choice, else the newest one in history.

    ``inference_options.model`` is set by the user's pick (``CHATKIT_MODELS``)
    and filled in by the request check; a turn with no user message of its
    own (a client tool's output) keeps the model of the message it answers.
    Returns ``None`` for "the default" (``CHATKIT_MODEL``).
    """
    if message is not None:
        return message.inference_options.model
    for item in reversed(history):
        if isinstance(item, UserMessageItem):
            return item.inference_options.model
    return None


_server: ChatServer | None = None


_SDK_MODEL_PACKAGES = ("chatkit", "openai.types")
_completed = False


def complete_sdk_models() -> int:
    """Finish building the pydantic models of chatkit and ``openai.types`` that import left incomplete.

    Hundreds of them (``ThreadItemUpdatedEvent``, the Responses stream events,
    ``Response``) have forward references pydantic can't resolve while their
    modules load, so it leaves them "incomplete" and retries the rebuild on
    every instantiation, from a frame where the retry fails again: ~40 us per
    streamed event instead of ~3. One ``model_rebuild()`` per model, once all
    are imported, resolves them for good. Idempotent (the first call in a
    process does the work, ~0.3-0.7 s); returns how many it rebuilt.
    """
    global _completed
    if _completed:
        return 0
    from pydantic import BaseModel

    rebuilt = 0
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(_SDK_MODEL_PACKAGES):
            continue
        for value in list(vars(module).values()):
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == name
                and not value.__pydantic_complete__
            ):
                with contextlib.suppress(Exception):  # one that still can't resolve keeps pydantic's own retry
                    rebuilt += bool(value.model_rebuild())
    _completed = True
    return rebuilt


def get_server() -> ChatServer:
    """The process-wide :class:`ChatServer` (created on first use)."""
    global _server
    if _server is None:
        _server = ChatServer()
    return _server
