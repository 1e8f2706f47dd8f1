"""Recording the tools the server's Agent runs, for the admin's transcript.

The SDK keeps no thread item for a server-side tool call (only client tool
calls are items), so a turn's tool calls would leave no trace. A
:class:`ToolCallRecorder` is handed to ``Runner.run_streamed(hooks=...)``
(openai-agents' public ``RunHooks``: ``on_tool_start`` gets a ``ToolContext``
with ``tool_call_id``, ``tool_name`` and ``tool_arguments``; ``on_tool_end``
the result) and writes one :class:`chat.models.ServerToolCall` row per call
as it returns: one ``INSERT``, only in turns that run a tool.

Why a side table and not items: items are what the model sees as history and
what both UIs draw; a raw tool result is neither's business.
"""

from __future__ import annotations

import logging
from typing import Any

from agents import RunHooks
from asgiref.sync import sync_to_async
from django.utils import timezone

from . import models

logger = logging.getLogger(__name__)

# A tool's result is kept up to this many characters (the rest is cut, with a marker).
MAX_OUTPUT_CHARS = 20_000


def _cut(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"… [{len(text) - MAX_OUTPUT_CHARS} more characters]"


class ToolCallRecorder(RunHooks[Any]):
    """``RunHooks`` that record a turn's server tool calls in ``thread_id``'s name.

    Args:
        thread_id: the thread the turn runs in (already checked to be the owner's).
        owner: the owner key its rows carry.
    """

    def __init__(self, thread_id: str, owner: str):
        self.thread_id = thread_id
        self.owner = owner
        self._open: dict[str, models.ServerToolCall] = {}

    async def on_tool_start(self, context, agent, tool) -> None:
        call_id = str(getattr(context, "tool_call_id", "") or "")
        self._open[call_id or str(id(tool))] = models.ServerToolCall(
            thread_id=self.thread_id,
            owner=self.owner,
            call_id=call_id,
            name=str(getattr(context, "tool_name", None) or getattr(tool, "name", "tool"))[:128],
            arguments=str(getattr(context, "tool_arguments", "") or ""),
            created_at=timezone.now(),
        )

    async def on_tool_end(self, context, agent, tool, result: object) -> None:
        call_id = str(getattr(context, "tool_call_id", "") or "")
        row = self._open.pop(call_id or str(id(tool)), None)
        if row is None:
            return
        row.output = _cut(result if isinstance(result, str) else repr(result))
        row.finished_at = timezone.now()
        await self._save([row])

    async def flush(self) -> None:
        """Record the calls that started but never returned (the turn ended first)."""
        rows, self._open = list(self._open.values()), {}
        if rows:
            await self._save(rows)

    async def _save(self, rows: list[models.ServerToolCall]) -> None:
        try:
            await sync_to_async(models.ServerToolCall.objects.bulk_create)(rows)
        except Exception:  # a lost record must never break the user's turn
            logger.exception("Could not record server tool calls in thread %s", self.thread_id)
