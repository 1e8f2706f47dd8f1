"""Output caps: every answer has at most ``CHATKIT_MAX_OUTPUT_TOKENS`` tokens, and says so when cut.

The cap reaches every model as ``ModelSettings.max_tokens`` on the turn's
Agent (:func:`capped`; an agent's own lower cap wins). A model that hits it
ends its answer early: the Responses API (and our echo model) with a
``response.incomplete`` event, which openai-agents raises as a
``ModelBehaviorError``; Chat Completions servers and the embedded model with
``output_tokens`` equal to the cap. :func:`mark_cut_off` turns either into the
answer's last words, :data:`MARKER`, streamed as a text delta and saved with the
message, so the user sees where and why it stopped (docs/architecture.md, "Limits").
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from agents import Agent, ModelBehaviorError
from agents.result import RunResultStreaming
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
)

from .conf import app_settings

MARKER = "\n\n*[Answer cut off: it reached the limit of {limit} tokens.]*"


def output_cap(agent: Agent) -> int | None:
    """The cap for ``agent``'s answers (``None``: no cap).

    The lowest of ``CHATKIT_MAX_OUTPUT_TOKENS``, the agent's own
    ``model_settings.max_tokens`` and its model's own default cap, if it has one
    (the embedded model's ``max_tokens``).
    """
    model_default = getattr(agent.model, "max_tokens", None)
    candidates = (agent.model_settings.max_tokens, app_settings.CHATKIT_MAX_OUTPUT_TOKENS, model_default)
    caps = [c for c in candidates if isinstance(c, int) and not isinstance(c, bool) and c > 0]
    return min(caps) if caps else None


def capped(agent: Agent, **changes) -> Agent:
    """``agent`` with ``changes`` (``Agent.clone``'s fields) and ``model_settings.max_tokens`` set to :func:`output_cap`.

    One clone for both (the original is untouched): each ``Agent`` built
    re-reads its dataclass's type hints (openai-agents' ``__post_init__``),
    ~50 µs a clone on this machine. ``agent`` itself when nothing changes.
    """
    cap = output_cap(agent)
    if cap is not None and agent.model_settings.max_tokens != cap:
        changes["model_settings"] = agent.model_settings.resolve({"max_tokens": cap})
    return agent.clone(**changes) if changes else agent


def _hit_cap(result: RunResultStreaming, cap: int) -> bool:
    if not result.raw_responses:
        return False
    usage = result.raw_responses[-1].usage
    return bool(usage and usage.output_tokens and usage.output_tokens >= cap)


def _is_length_stop(exc: ModelBehaviorError) -> bool:
    text = str(exc)
    return "response.incomplete" in text and "max_output_tokens" in text


async def mark_cut_off(
    events: AsyncIterator[ThreadStreamEvent], result: RunResultStreaming, cap: int | None
) -> AsyncIterator[ThreadStreamEvent]:
    """Pass ``events`` through; when the answer stopped at ``cap`` tokens, end its text with :data:`MARKER`.

    The newest assistant message's ``thread.item.done`` is held back until the
    next event (or the end), so the marker can go into the saved item. Raises
    whatever ``events`` raises, except the cap's own ``ModelBehaviorError``.
    """
    held: ThreadItemDoneEvent | None = None
    cut = False
    try:
        async for event in events:
            if held is not None:
                yield held
                held = None
            if isinstance(event, ThreadItemDoneEvent) and isinstance(event.item, AssistantMessageItem) and cap:
                held = event
            else:
                yield event
        cut = cap is not None and _hit_cap(result, cap)
    except ModelBehaviorError as exc:
        if held is None or not _is_length_stop(exc):
            if held is not None:
                yield held
            raise
        cut = True
    if held is None:
        return
    if cut:
        marker = MARKER.format(limit=cap)
        item = held.item
        if not item.content:
            item.content.append(AssistantMessageContent(text=""))
        item.content[-1].text += marker
        yield ThreadItemUpdatedEvent(
            item_id=item.id,
            update=AssistantMessageContentPartTextDelta(content_index=len(item.content) - 1, delta=marker),
        )
    yield held
