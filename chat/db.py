"""Database connections under ASGI: hand a pooled connection back while a turn waits.

Django returns a request's connection when the request ends, but a streamed
answer is one long request: with psycopg's pool (``OPTIONS["pool"]`` on
PostgreSQL, see ``chatproject/settings.py``) each open stream would keep a
connection borrowed for the whole time its model writes, and the pool's
``max_size`` would cap the concurrent streams of a process. Closing a pooled
connection only returns it to the pool; the next query borrows one again.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connection, connections


def pooled() -> bool:
    """Whether the default database uses a connection pool (no query; safe in async code).

    Reads the settings, not ``connection``: on the event loop Django's
    connections are per async context, so touching ``connection`` there
    built a new database wrapper for every request (~2.5 KiB each, issue 15).
    """
    return bool(connections.settings[DEFAULT_DB_ALIAS].get("OPTIONS", {}).get("pool"))


def release_connection() -> None:
    """Return this thread's pooled connection to the pool, unless a transaction needs it. Sync."""
    if pooled() and connection.connection is not None and not connection.in_atomic_block:
        connection.close()
