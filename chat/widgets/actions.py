"""The actions the shipped widget templates send, registered in :mod:`chat.actions`.

* ``widget.choose`` (payload ``{"value", "label"}``): a choice button or
  list item. The widget is replaced by its answered form (every control that
  sends ``widget.choose`` disabled, the chosen one marked), a hidden context
  item tells the next turn what the user chose, and the agent answers.
  Registered both streaming (``threads.custom_action``: answers at once) and
  sync (``threads.sync_custom_action``: returns the updated widget, usable
  while an answer is still streaming; the choice reaches the next turn).
* ``widget.submit`` (payload: the form's values, plus ``"form"``): a form's
  submit. The form is replaced by a disabled copy, the values go into a
  hidden context item and the agent answers.

Any template can send them: the updates work on the widget tree, not on one
template's layout. A choice or form that was already answered refuses a
second one (an ``error`` event, or 400 for the sync action).
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from chatkit.errors import CustomStreamError
from chatkit.types import (
    HiddenContextItem,
    SyncCustomActionResponse,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadStreamEvent,
    WidgetItem,
)
from chatkit.widgets import DynamicWidgetRoot
from pydantic import BaseModel, ConfigDict, Field

from ..actions import ActionContext, action

CHOOSE_ACTION = "widget.choose"
SUBMIT_ACTION = "widget.submit"
CONTROLS = ("Input", "Textarea", "Select", "Checkbox", "RadioGroup", "DatePicker", "Button")


class Choice(BaseModel):
    """The payload of a ``widget.choose`` control."""

    value: str = Field(min_length=1, max_length=200, description="the choice's id")
    label: str | None = Field(default=None, max_length=200, description="what the control said")


class Submission(BaseModel):
    """The payload of ``widget.submit``: the form's field values (any names) and the form's title."""

    model_config = ConfigDict(extra="allow")
    form: str | None = Field(default=None, max_length=200)


def _tree(item: WidgetItem) -> dict[str, Any]:
    return item.widget.model_dump(exclude_none=True)


def mark_choice(tree: dict[str, Any], choice: Choice) -> tuple[dict[str, Any], bool]:
    """A copy of ``tree`` answered with ``choice``, and whether an open control offered it.

    Every control sending ``widget.choose`` loses its action and is disabled;
    the chosen button becomes primary with a check icon.
    """
    tree = copy.deepcopy(tree)
    offered = False

    def walk(node: Any) -> None:
        nonlocal offered
        if isinstance(node, dict):
            config = node.get("onClickAction")
            if isinstance(config, dict) and config.get("type") == CHOOSE_ACTION:
                chosen = (config.get("payload") or {}).get("value") == choice.value
                offered = offered or chosen
                node.pop("onClickAction")
                if node.get("type") == "Button":
                    node["disabled"] = True
                    if chosen:
                        node.update(style="primary", iconStart="check")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return tree, offered


def close_form(tree: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of a submitted form: fields show the submitted values, every control disabled, no submit."""
    tree = copy.deepcopy(tree)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in CONTROLS:
                node["disabled"] = True
                name = node.get("name")
                if name in values and node.get("type") in ("Input", "Textarea", "Select"):
                    node["defaultValue"] = str(values[name])
            confirm = node.get("confirm")
            if isinstance(confirm, dict) and (confirm.get("action") or {}).get("type") == SUBMIT_ACTION:
                node.pop("confirm")
                node.pop("cancel", None)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return tree


def _hidden(ctx: ActionContext, content: str) -> HiddenContextItem:
    return HiddenContextItem(
        id=ctx.server.store.generate_item_id("message", ctx.thread, ctx.context),
        thread_id=ctx.thread.id,
        created_at=datetime.now(),
        content=content,
    )


def _chosen(ctx: ActionContext, error) -> tuple[WidgetItem, HiddenContextItem]:
    if ctx.sender is None:
        raise error("A choice needs the widget it was made in (item_id).")
    tree, offered = mark_choice(_tree(ctx.sender), ctx.payload)
    if not offered:
        raise error("This choice was already made, or the widget doesn't offer it.")
    updated = ctx.sender.model_copy(update={"widget": DynamicWidgetRoot.model_validate(tree)})
    label = ctx.payload.label or ctx.payload.value
    note = f"In the widget {ctx.sender.id} the user chose “{label}” (value {ctx.payload.value!r})."
    return updated, _hidden(ctx, note)


@action(CHOOSE_ACTION, payload=Choice)
async def choose(ctx: ActionContext) -> AsyncIterator[ThreadStreamEvent]:
    """Mark the choice in the widget, note it for the model, and answer."""
    updated, note = _chosen(ctx, lambda message: CustomStreamError(message, allow_retry=False))
    yield ThreadItemReplacedEvent(item=updated)  # the SDK saves both
    yield ThreadItemDoneEvent(item=note)
    async for event in ctx.server.respond(ctx.thread, None, ctx.context):
        yield event


@action(CHOOSE_ACTION, payload=Choice, sync=True)
async def choose_sync(ctx: ActionContext) -> SyncCustomActionResponse:
    """Mark the choice and note it for the next turn, without answering now."""
    updated, note = _chosen(ctx, ValueError)
    await ctx.server.store.save_item(ctx.thread.id, updated, ctx.context)
    await ctx.server.store.add_thread_item(ctx.thread.id, note, ctx.context)
    return SyncCustomActionResponse(updated_item=updated)


@action(SUBMIT_ACTION, payload=Submission)
async def submit(ctx: ActionContext) -> AsyncIterator[ThreadStreamEvent]:
    """Close the form, give its values to the model, and answer."""
    if ctx.sender is None:
        raise CustomStreamError("A form submission needs the widget it came from (item_id).", allow_retry=False)
    tree = _tree(ctx.sender)
    if not any(c.get("type") == SUBMIT_ACTION for c in _submit_configs(tree)):
        raise CustomStreamError("This form was already sent.", allow_retry=False)
    values = ctx.payload.model_dump(exclude={"form"}, exclude_none=True)
    updated = ctx.sender.model_copy(update={"widget": DynamicWidgetRoot.model_validate(close_form(tree, values))})
    name = ctx.payload.form or "the form"
    note = f"The user sent {name} (widget {ctx.sender.id}) with: {json.dumps(values, ensure_ascii=False)}"
    yield ThreadItemReplacedEvent(item=updated)
    yield ThreadItemDoneEvent(item=_hidden(ctx, note))
    async for event in ctx.server.respond(ctx.thread, None, ctx.context):
        yield event


def _submit_configs(tree: dict[str, Any]):
    from .definition import action_configs

    return action_configs(tree)
