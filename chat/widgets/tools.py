"""Every enabled widget template is a tool for the agent: ``widget_<slug>``.

The tool's parameters are the template's JSON Schema and its description is
the template's. Calling it checks the arguments against the schema and
builds the widget with the SDK's ``WidgetTemplate``; arguments that don't
fit come back to the model as a tool error it can correct, so nothing broken
reaches the user. A template marked ``needs_approval`` pauses the run for the
user's approval first (:mod:`chat.approvals`).

:func:`template_tools` reads the enabled templates on every turn (one query),
so a template enabled in the admin is offered on the next turn with no
restart; tools are built once per (slug, version).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from agents import FunctionTool
from agents.tool_context import ToolContext
from asgiref.sync import sync_to_async
from django.db import connections, router

from .. import models
from .definition import WidgetInvalid, build, data_errors


def _tool_schema(schema: dict[str, Any]) -> dict[str, Any]:
    # "$schema" and "$id" mean nothing to a model's tool API; some reject them.
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}


def widget_tool(
    *, name: str, title: str, description: str, definition: dict[str, Any], needs_approval: bool = False
) -> FunctionTool:
    """The ``FunctionTool`` that shows one template's widget.

    The tool answers the model with a short text: the widget is shown, or
    ``"Error: …"`` naming the arguments that don't match the schema (the
    run goes on, the model can call again).
    """
    schema = definition.get("jsonSchema") or {"type": "object"}

    async def invoke(ctx: ToolContext[Any], arguments: str) -> str:
        try:
            data = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            return f"Error: the arguments are not valid JSON ({exc.msg}). Call {name} again with a JSON object."
        problems = data_errors(schema, data, limit=5)
        if problems:
            return (
                f"Error: the arguments don't match the {title} widget's schema: "
                + "; ".join(problems)
                + f". Nothing was shown. Fix them and call {name} again."
            )
        try:
            widget = build(definition, data)
        except WidgetInvalid as exc:
            return f"Error: the {title} widget could not be built from these arguments ({exc}). Nothing was shown."
        await ctx.context.stream_widget(widget, copy_text=_copy_text(title, data))
        return f"The {title} widget is shown to the user. Don't repeat its content; wait for the user if it asks something."

    return FunctionTool(
        name=name,
        description=description,
        params_json_schema=_tool_schema(schema),
        on_invoke_tool=invoke,
        strict_json_schema=False,
        needs_approval=needs_approval,
    )


def _copy_text(title: str, data: dict[str, Any]) -> str:
    # What "copy" puts on the clipboard: the widget's title and its data's strings.
    strings: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(data)
    return f"{title}: " + " · ".join(strings[:20])


@lru_cache(maxsize=256)
def _cached_tool(
    slug: str, version: int, needs_approval: bool, title: str, description: str, definition_json: str
) -> FunctionTool:
    return widget_tool(
        name=models.WidgetTemplate.tool_name_of(slug),
        title=title,
        description=description,
        definition=json.loads(definition_json),
        needs_approval=needs_approval,
    )


# (database alias, vendor) -> the SQL and parameters of enabled_template_tools' query, compiled once.
_ENABLED_SQL: dict[tuple[str, str], tuple[str, tuple]] = {}
_COLUMNS = ("slug", "version", "needs_approval", "title", "description", "definition")


def enabled_template_tools() -> list[FunctionTool]:
    """One tool per enabled template, in slug order (synchronous: one query).

    Every turn runs this, so it costs what the database takes and little
    more (issue 15): the query has no varying value, so the ORM compiles it
    once per database, and ``definition`` stays the JSON text the cursor
    returns (Django's SQLite and psycopg backends alike), which is the key of
    the built tools' cache: it is parsed only when a template changes.
    """
    connection = connections[router.db_for_read(models.WidgetTemplate)]
    key = (connection.alias, connection.vendor)
    compiled = _ENABLED_SQL.get(key)
    if compiled is None:
        query = models.WidgetTemplate.objects.filter(enabled=True).order_by("slug").values_list(*_COLUMNS)
        compiled = _ENABLED_SQL[key] = query.query.get_compiler(using=connection.alias).as_sql()
    sql, params = compiled
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        _cached_tool(
            slug, version, bool(approval), title, description, raw if isinstance(raw, str) else json.dumps(raw)
        )
        for slug, version, approval, title, description, raw in rows
    ]


async def template_tools() -> list[FunctionTool]:
    """:func:`enabled_template_tools` from async code (one thread hop)."""
    return await sync_to_async(enabled_template_tools)()
