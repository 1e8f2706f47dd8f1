"""The Agent that answers in a thread: its instructions, its tools, its model.

Tools (``openai-agents`` function tools; ``ctx.context`` is the ChatKit
``AgentContext`` so a tool can stream events into the thread):

* ``current_time`` and ``search_conversation`` run on the server and report
  progress (``progress_update``) while they work.
* ``show_quick_replies`` draws a widget whose buttons send the
  ``chat.reply`` action back (handled in :mod:`chat.server`).
* ``switch_theme`` is a client tool: the run stops and the browser answers
  with ``threads.add_client_tool_output``.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agents import Agent, Model, RunContextWrapper, StopAtTools, function_tool
from asgiref.sync import sync_to_async
from chatkit.actions import ActionConfig
from chatkit.agents import AgentContext, ClientToolCall
from chatkit.types import ProgressUpdateEvent
from chatkit.widgets import Button, Card, Row, Text, Title
from django.conf import settings

from . import models

ChatContext = AgentContext  # AgentContext[RequestContext]: thread, store, request_context

QUICK_REPLY_ACTION = "chat.reply"
CLIENT_TOOLS = ("switch_theme",)


@function_tool
async def current_time(ctx: RunContextWrapper[ChatContext], timezone: str = "UTC") -> str:
    """Get the current time and today's date and day of the week.

    Args:
        timezone: an IANA time zone such as "Asia/Tokyo"; "UTC" when unsure.
    """
    await ctx.context.stream(ProgressUpdateEvent(icon="clock", text=f"Checking the time in {timezone}…"))
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"Unknown time zone {timezone!r}. Use an IANA name like 'Europe/Paris'."
    return datetime.now(zone).strftime(f"%A %d %B %Y, %H:%M ({timezone})")


@function_tool
async def search_conversation(ctx: RunContextWrapper[ChatContext], query: str) -> str:
    """Search (find) a word or phrase in the earlier messages of this chat.

    Args:
        query: the word or phrase to find.
    """
    await ctx.context.stream(ProgressUpdateEvent(icon="search", text=f"Searching this conversation for “{query}”…"))
    hits = await sync_to_async(_search_items)(ctx.context.thread.id, ctx.context.request_context.owner, query)
    if not hits:
        return f"No earlier message mentions {query!r}."
    return "\n".join(f"- {kind}: {text}" for kind, text in hits)


def _search_items(thread_id: str, owner: str, query: str, limit: int = 5) -> list[tuple[str, str]]:
    """The newest ``limit`` items of one owner's thread whose text contains ``query``."""
    rows = (
        models.Item.objects.filter(thread_id=thread_id, owner=owner, text__icontains=query)
        .order_by("-seq")
        .values_list("type", "text")[:limit]
    )
    return [(kind.replace("_", " "), text[:300]) for kind, text in rows]


@function_tool
async def show_quick_replies(ctx: RunContextWrapper[ChatContext], question: str, options: list[str]) -> str:
    """Offer quick-reply buttons: 2 to 4 options to pick from.

    Args:
        question: the question the buttons answer.
        options: 2 to 4 options, each a few words.
    """
    options = [o.strip() for o in options if o.strip()][:4]
    widget = Card(
        children=[
            Title(value=question, size="sm"),
            Row(
                gap=2,
                wrap="wrap",
                children=[
                    Button(
                        label=option,
                        style="secondary",
                        onClickAction=ActionConfig(type=QUICK_REPLY_ACTION, payload={"text": option}),
                    )
                    for option in options
                ],
            ),
            Text(value="Pick an answer, or type your own.", size="xs", color="secondary"),
        ]
    )
    await ctx.context.stream_widget(widget, copy_text=f"{question} ({' / '.join(options)})")
    return "The options are shown to the user; wait for their choice."


@function_tool
async def switch_theme(ctx: RunContextWrapper[ChatContext], theme: str) -> str:
    """Switch the page to the light or dark theme (mode).

    Args:
        theme: "light" or "dark".
    """
    theme = "dark" if theme.strip().lower() == "dark" else "light"
    ctx.context.client_tool_call = ClientToolCall(name="switch_theme", arguments={"theme": theme})
    return f"Asked the page to switch to the {theme} theme."


TOOLS = [current_time, search_conversation, show_quick_replies, switch_theme]


def build_agent(model: Model, *, tools: bool = True) -> Agent[ChatContext]:
    """Return the chat Agent on ``model`` with the instructions from ``CHATKIT_INSTRUCTIONS``.

    ``tools=False`` gives a tool-less agent for models that can't call tools.
    The run stops at a client tool call so the browser can answer it, and
    after the quick-reply widget, which is the turn's answer.
    """
    return Agent[ChatContext](
        name="Assistant",
        instructions=settings.CHATKIT_INSTRUCTIONS,
        model=model,
        tools=list(TOOLS) if tools else [],
        # The quick-reply widget is the turn's answer: small models otherwise invent the user's pick.
        tool_use_behavior=StopAtTools(stop_at_tool_names=[*CLIENT_TOOLS, "show_quick_replies"]),
    )


@cache
def agent_for(spec: str) -> Agent[ChatContext]:
    """The Agent for a ``CHATKIT_MODEL`` spec, built once per process and spec."""
    from .llm import get_model, model_supports_tools

    return build_agent(get_model(spec), tools=model_supports_tools(spec))
