"""Every private API of Django and the SDKs that the app touches, in one place.

Each one is pinned: :data:`PINNED` lists the versions these were checked
against, and ``tests/test_compat.py`` fails, naming this module, when an
installed version differs or one of the attributes is gone. Upgrading a pin
means re-reading each use below against the new release.

* Django's ``InsertQuery`` (what ``QuerySet._insert`` builds): one ``INSERT … ON
  CONFLICT DO UPDATE`` without the transaction ``bulk_create`` wraps around
  it, compiled once and reused (:func:`upsert`).
* openai-chatkit's ``ChatKitServer._process_streaming`` and
  ``_process_non_streaming``: dispatching a request the view has already
  parsed and checked, instead of parsing it again in ``process()``; and
  ``ChatKitServer._build_user_message_item``, overridden so the SDK takes the user
  message the view already saved with the turn's claim (``ChatServer.save_user_message``).
* openai-agents' Chat Completions converter and stream handler
  (``agents.models.chatcmpl_converter.Converter``,
  ``agents.models.chatcmpl_stream_handler.ChatCmplStreamHandler``) and its
  ``__fake_id__`` marker: the embedded model speaks Chat Completions chunks
  through them.
* Django's SQL compiler (``Query.get_compiler().as_sql()``): a hot read's
  SQL compiled once and reused (:func:`reusable_sql`).
* Django's ``MiddlewareMixin.__acall__`` (the async path of every built-in
  middleware, which hops to a worker thread for each phase): :class:`InlineHooks`
  replaces it for middleware whose phases do no I/O (:mod:`chat.loop_middleware`).
* channels' ``InMemoryChannelLayer.groups`` (group name -> its channels): with
  that layer, nobody watching a thread is known without a ``group_send``, which
  scans every channel and group of the process each time (:func:`nobody_in_group`).
* Twisted's TCP write buffer (``FileDescriptor.dataBuffer``, ``offset``,
  ``_tempDataLen``, ``_writeDisconnected``): :class:`chat.daphne.PromptServer`
  sends a write at once only when nothing is queued (its own module, as it
  replaces daphne's connection class; ``tests/test_daphne.py``).
"""

from __future__ import annotations

from importlib.metadata import version

from agents.models.chatcmpl_converter import Converter as ChatCmplConverter
from agents.models.chatcmpl_stream_handler import ChatCmplStreamHandler
from agents.models.fake_id import FAKE_RESPONSES_ID
from channels.layers import InMemoryChannelLayer
from django.db import connections
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

__all__ = [
    "PINNED",
    "ChatCmplConverter",
    "ChatCmplStreamHandler",
    "FAKE_RESPONSES_ID",
    "InlineHooks",
    "nobody_in_group",
    "pin_mismatches",
    "process_non_streaming",
    "process_streaming",
    "reusable_sql",
    "upsert",
]

# Distribution name -> the version prefix our private uses were checked against.
PINNED: dict[str, str] = {
    "Django": "5.2.",
    "openai-chatkit": "1.6.5",
    "openai-agents": "0.24.0",
    "Twisted": "26.10.",
    "channels": "4.3.",
}


def pin_mismatches() -> list[str]:
    """Lines like ``"openai-chatkit 1.7.0 (chat/compat.py is checked against 1.6.5)"``, one per drift."""
    drift = []
    for dist, pinned in PINNED.items():
        installed = version(dist)
        if not (installed == pinned or (pinned.endswith(".") and installed.startswith(pinned))):
            drift.append(f"{dist} {installed} (chat/compat.py is checked against {pinned})")
    return drift


def upsert(obj: Model, *, unique_fields: list[str], update_fields: list[str], using: str = "default") -> None:
    """Write one row as a single ``INSERT … ON CONFLICT (unique) DO UPDATE`` statement.

    ``bulk_create(update_conflicts=True)`` compiles the same statement but
    always wraps it in a transaction, which on SQLite adds a ``BEGIN
    IMMEDIATE`` round trip to every write of a turn. One statement is atomic
    by itself, so this builds the insert that ``bulk_create`` and
    ``Model.save()`` share (``QuerySet._insert``'s ``InsertQuery``). Compiling
    it costs several times what SQLite takes to run it, so the SQL is compiled
    once per model, fields and database vendor and reused; each call only
    prepares its values (``Field.pre_save`` and ``get_db_prep_save``, as the
    compiler does). An update keeps the row's primary key, so an item keeps its
    place (``seq``).

    Raises ``IntegrityError`` on any other constraint (e.g. a missing thread).
    """
    connection = connections[using]
    opts = obj._meta
    fields = [f for f in opts.concrete_fields if f is not opts.pk]
    key = (type(obj), tuple(unique_fields), tuple(update_fields), connection.vendor, connection.alias)
    sql = _UPSERT_SQL.get(key)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    if sql is None:
        get = opts.get_field
        query = InsertQuery(
            type(obj),
            on_conflict=OnConflict.UPDATE,
            update_fields=[get(name) for name in update_fields],
            unique_fields=[get(name) for name in unique_fields],
        )
        query.insert_values(fields, [obj])
        [(sql, compiled_params)] = query.get_compiler(using=using).as_sql()
        if len(compiled_params) != len(params):  # a field with its own placeholder: don't reuse
            with connection.cursor() as cursor:
                cursor.execute(sql, compiled_params)
            return
        _UPSERT_SQL[key] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


_UPSERT_SQL: dict[tuple, str] = {}


def nobody_in_group(layer, group: str) -> bool:
    """Whether ``layer`` knows, without asking a server, that ``group`` has no member.

    True only for channels' in-process ``InMemoryChannelLayer`` with no channel
    in the group; any other layer (Redis: members in other processes) is
    False, so the caller sends.
    """
    return isinstance(layer, InMemoryChannelLayer) and not layer.groups.get(group)


def reusable_sql(queryset, params: list) -> str | None:
    """The SQL the ORM compiles for ``queryset``, if its parameters are exactly ``params``; else ``None``.

    Such SQL can be cached and run again with other values in the same
    places, skipping the compiler (``Query.get_compiler().as_sql()``), which
    costs more than SQLite takes to run a short read. Build ``queryset`` with
    ``params`` as its only values, each once (LIMIT and OFFSET are part of the SQL).
    """
    sql, compiled = queryset.query.get_compiler(using=queryset.db).as_sql()
    return sql if list(compiled) == list(params) else None


def process_streaming(server, request, context):
    """``ChatKitServer._process_streaming``: the SSE frames (bytes) of a parsed streaming request."""
    return server._process_streaming(request, context)


async def process_non_streaming(server, request, context) -> bytes:
    """``ChatKitServer._process_non_streaming``: the JSON answer (bytes) of a parsed request."""
    return await server._process_non_streaming(request, context)


class InlineHooks:
    """Mix in before a ``MiddlewareMixin`` subclass: in async mode its hooks run on the event loop.

    ``MiddlewareMixin.__acall__`` (Django 5.2) runs ``process_request`` and
    ``process_response`` each in ``sync_to_async(thread_sensitive=True)``: two
    worker-thread hops per middleware and request. For a middleware whose
    hooks only read and write the request and response (no database, no files),
    this runs them inline, in the same order and with the same short-circuit.
    A hook that does touch the database anyway fails loudly there
    (``SynchronousOnlyOperation``), never silently blocks the loop.
    """

    async def __acall__(self, request):
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response
