"""Human approval of tool calls: pause the run, ask the user, resume or refuse.

A tool marked ``needs_approval`` (the Agents SDK's flag on ``function_tool``
or ``FunctionTool``; per widget template in the admin) makes the run stop
before the tool runs, with ``result.interruptions``. Then (docs/architecture.md,
"Approvals"):

1. :func:`pause` stores the run's ``RunState.to_json()`` in a
   :class:`chat.models.ToolApproval` row and shows an approval card (the
   shipped ``approval_card.widget``) with Approve and Deny buttons. Nothing of
   the tool has run.
2. The buttons send the registered actions ``approval.approve`` /
   ``approval.deny`` (payload ``{"approval": "<id>"}``). :func:`decide`
   moves the row from pending to decided with one conditional UPDATE, so a
   second click, a second tab or a second server process finds it decided
   and gets an error event; another owner's approval is "not found". Locked
   threads refuse the action before it gets here (:mod:`chat.protocol`).
3. The card is replaced by its decided form (who, when) and the run resumes
   from the stored state (``RunState.from_json``) in whichever process got
   the click: approved calls run; denied ones answer the model with
   :data:`DENIED_MESSAGE`, and it carries on without them.

The stored state holds no context: the ChatKit ``AgentContext`` (thread,
store, owner) is rebuilt for the resuming request.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agents import RunContextWrapper, RunState
from asgiref.sync import sync_to_async
from chatkit.agents import AgentContext
from chatkit.errors import CustomStreamError
from chatkit.types import ThreadItemDoneEvent, ThreadItemReplacedEvent, ThreadMetadata, ThreadStreamEvent, WidgetItem
from chatkit.widgets import WidgetTemplate
from django.utils import timezone
from pydantic import BaseModel, Field

from . import models
from .actions import ActionContext, action
from .context import RequestContext
from .widgets.templates import APPROVAL_CARD

if TYPE_CHECKING:
    from agents import RunResultStreaming

    from .server import ChatServer

APPROVE_ACTION = "approval.approve"
DENY_ACTION = "approval.deny"
DENIED_MESSAGE = (
    "The user denied this tool call, so it did not run. Answer without it, and don't call it again unless asked."
)

_card_template: WidgetTemplate | None = None


def _card() -> WidgetTemplate:
    global _card_template
    if _card_template is None:
        _card_template = WidgetTemplate.from_file(str(APPROVAL_CARD))
    return _card_template


def describe_call(name: str, arguments: Any, tools: dict[str, Any]) -> dict[str, str]:
    """A paused call as the card shows it: a title, what the tool does, its arguments as indented JSON."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            pass
    tool = tools.get(name)
    description = (getattr(tool, "description", "") or "").strip().split("\n")[0]
    return {
        "title": f"Run {name}",
        "description": description,
        "arguments": json.dumps(arguments, indent=2, ensure_ascii=False)
        if not isinstance(arguments, str)
        else arguments,
    }


def card_widget(approval_id: str, calls: list[dict[str, str]], status: str | None = None, decided: str = ""):
    """The approval card: pending (with Approve/Deny) or decided (with who and when)."""
    data: dict[str, Any] = {"approval": approval_id, "calls": calls, "status": status}
    if decided:
        data["decided"] = decided
    return _card().build(data)


def _decided_text(status: str, by: str, when: datetime) -> str:
    verb = "Approved" if status == models.ApprovalStatus.APPROVED else "Denied"
    return f"{verb} by {by} at {when:%Y-%m-%d %H:%M} UTC."


def _who(context: RequestContext) -> str:
    if context.user_id is not None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=context.user_id).first()
        if user is not None:
            return user.get_username()
    return "you" if context.owner.startswith("anon:") else context.owner


async def pause(
    server: ChatServer,
    thread: ThreadMetadata,
    agent_context: AgentContext,
    result: RunResultStreaming,
    *,
    model: str | None,
    tools: dict[str, Any],
) -> AsyncIterator[ThreadStreamEvent]:
    """Store the interrupted run and show its approval card (one card per paused run)."""
    context: RequestContext = agent_context.request_context
    state = result.to_state().to_json(context_serializer=lambda _ctx: {})
    calls = [
        {
            "call_id": getattr(item, "call_id", None) or "",
            "name": item.tool_name or "",
            "arguments": item.arguments or "",
        }
        for item in result.interruptions
    ]
    shown = [describe_call(c["name"], c["arguments"], tools) for c in calls]
    from .store import new_id

    approval_id = new_id("apr")
    card = WidgetItem(
        id=server.store.generate_item_id("message", thread, context),
        thread_id=thread.id,
        created_at=datetime.now(),
        widget=card_widget(approval_id, shown),
        copy_text="Approve: " + ", ".join(c["name"] for c in calls),
    )
    await sync_to_async(models.ToolApproval.objects.create)(
        id=approval_id,
        thread_id=thread.id,
        owner=context.owner,
        item_id=card.id,
        calls=[{**c, **{"shown": s}} for c, s in zip(calls, shown)],
        state=state,
        model=model or "",
    )
    yield ThreadItemDoneEvent(item=card)  # the SDK saves it


class Decision(BaseModel):
    """The payload of the approval card's buttons."""

    approval: str = Field(min_length=1, max_length=64, description="the ToolApproval id")


def _claim(approval_id: str, thread_id: str, context: RequestContext, status: str) -> models.ToolApproval:
    """Decide a pending approval, once. Raises ``CustomStreamError`` if it is not found or already decided."""
    rows = models.ToolApproval.objects.owned_by(context.owner).filter(id=approval_id, thread_id=thread_id)
    now, who = timezone.now(), _who(context)
    won = rows.filter(status=models.ApprovalStatus.PENDING).update(status=status, decided_at=now, decided_by=who)
    row = rows.first()
    if row is None:
        raise CustomStreamError("This approval was not found.", allow_retry=False)
    if not won:
        raise CustomStreamError(f"This tool call was already {row.status} ({row.decided_by}).", allow_retry=False)
    return row


async def decide(ctx: ActionContext, approve: bool) -> AsyncIterator[ThreadStreamEvent]:
    """Record the decision, update the card, then resume the paused run."""
    status = models.ApprovalStatus.APPROVED if approve else models.ApprovalStatus.DENIED
    row = await sync_to_async(_claim)(ctx.payload.approval, ctx.thread.id, ctx.context, status)

    card = await ctx.server.store.load_item(ctx.thread.id, row.item_id, ctx.context)
    if isinstance(card, WidgetItem):
        shown = [c.get("shown") or describe_call(c["name"], c["arguments"], {}) for c in row.calls]
        card = card.model_copy(
            update={"widget": card_widget(row.id, shown, status, _decided_text(status, row.decided_by, row.decided_at))}
        )
        yield ThreadItemReplacedEvent(item=card)

    async for event in ctx.server.resume(ctx.thread, row, approve, ctx.context):
        yield event


async def restore(agent, row: models.ToolApproval, agent_context: AgentContext, approve: bool) -> RunState:
    """The paused run of ``row`` with its decision applied, ready for ``Runner.run_streamed``."""
    state = await RunState.from_json(agent, row.state, context_override=RunContextWrapper(context=agent_context))
    for item in state.get_interruptions():
        if approve:
            state.approve(item)
        else:
            state.reject(item, rejection_message=DENIED_MESSAGE)
    return state


@action(APPROVE_ACTION, payload=Decision)
async def approve_tool_call(ctx: ActionContext) -> AsyncIterator[ThreadStreamEvent]:
    """Approve button: the paused tool calls run and the answer continues."""
    async for event in decide(ctx, approve=True):
        yield event


@action(DENY_ACTION, payload=Decision)
async def deny_tool_call(ctx: ActionContext) -> AsyncIterator[ThreadStreamEvent]:
    """Deny button: the model is told and answers without the tool."""
    async for event in decide(ctx, approve=False):
        yield event
