"""The Agent that answers in a thread: its instructions, its tools, its model.

Which Agent answers is the project's choice: ``CHATKIT_AGENT`` names a
function ``(model: agents.Model) -> agents.Agent``; the default is
:func:`default_agent` below. A project's own tools and instructions live in
its own module (see the README, "Customise the agent").

Tools (``openai-agents`` function tools; ``ctx.context`` is the ChatKit
``AgentContext`` so a tool can stream events into the thread):

* ``current_time`` and ``search_conversation`` run on the server and report
  progress (``progress_update``) while they work; ``world_clock`` shows its
  steps as a workflow (:mod:`chat.workflows`).
* ``show_quick_replies`` draws a widget whose buttons send the
  ``chat.reply`` action back (handled in :mod:`chat.actions`).
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
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from . import models
from .actions import QUICK_REPLY_ACTION
from .conf import app_settings
from .workflows import Steps

ChatContext = AgentContext  # AgentContext[RequestContext]: thread, store, request_context

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
async def world_clock(ctx: RunContextWrapper[ChatContext], timezones: list[str]) -> str:
    """Return the current time in several IANA time zones at once, e.g. ["Europe/Paris", "Asia/Tokyo"].

    Args:
        timezones: the IANA time zone names (at most 6).
    """
    steps = Steps(ctx.context)
    lines = []
    for name in [t.strip() for t in timezones if t.strip()][:6]:
        step = await steps.start(name, icon="clock")
        try:
            line = datetime.now(ZoneInfo(name)).strftime("%A %H:%M")
        except (ZoneInfoNotFoundError, ValueError):
            line = f"Unknown time zone {name!r}: use an IANA name like 'Europe/Paris'."
        await steps.finish(step, line)
        lines.append(f"- {name}: {line}")
    await steps.end(f"Checked {len(lines)} time zone(s)")
    return "\n".join(lines) or "No time zone given."


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
        models.Item.objects.owned_by(owner)
        .filter(thread_id=thread_id, text__icontains=query)
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


TOOLS = [current_time, world_clock, search_conversation, show_quick_replies, switch_theme]


def default_agent(model: Model) -> Agent[ChatContext]:
    """The default ``CHATKIT_AGENT``: the chat Agent on ``model`` with this module's tools.

    Instructions come from ``CHATKIT_INSTRUCTIONS``. The run stops at a client
    tool call (``switch_theme``) so the browser can answer it, and after the
    quick-reply widget, which is the turn's answer.
    """
    return Agent[ChatContext](
        name="Assistant",
        instructions=app_settings.CHATKIT_INSTRUCTIONS,
        model=model,
        tools=list(TOOLS),
        # The quick-reply widget is the turn's answer: small models otherwise invent the user's pick.
        tool_use_behavior=StopAtTools(stop_at_tool_names=[*CLIENT_TOOLS, "show_quick_replies"]),
    )


def build_agent(model: Model, *, tools: bool = True) -> Agent[ChatContext]:
    """The ``CHATKIT_AGENT`` function's Agent on ``model``.

    ``tools=False`` (a model that can't call tools) gives the same agent
    without its tools. Raises ``ImproperlyConfigured`` when ``CHATKIT_AGENT``
    doesn't import, and ``TypeError`` when it returns something other than an
    ``agents.Agent``.
    """
    path = app_settings.CHATKIT_AGENT
    try:
        factory = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"CHATKIT_AGENT={path!r} can't be imported: {exc}") from exc
    agent = factory(model)
    if not isinstance(agent, Agent):
        raise TypeError(f"CHATKIT_AGENT={path!r} returned {type(agent).__name__}, not agents.Agent")
    return agent if tools else agent.clone(tools=[], mcp_servers=[], handoffs=[])


@cache
def _agent_for(spec: str, agent_path: str) -> Agent[ChatContext]:
    from .llm import get_model, model_supports_tools

    return build_agent(get_model(spec), tools=model_supports_tools(spec))


def agent_for(spec: str) -> Agent[ChatContext]:
    """The Agent for a ``CHATKIT_MODEL`` spec, built once per process, spec and ``CHATKIT_AGENT``.

    Raises ``ImproperlyConfigured`` for an invalid spec or agent path.
    """
    return _agent_for(spec, app_settings.CHATKIT_AGENT)
