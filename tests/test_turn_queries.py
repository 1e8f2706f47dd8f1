"""SQL budget of one turn: ``threads.add_user_message`` runs at most 6 statements (the issue allows 8).

The view and the store run their SQL in ``sync_to_async`` worker threads
(:mod:`chat.workers`), each with its own persistent connection. So the
counter is installed on *every* connection as it is created
(``connection_created``), not on the test thread's connection alone, and the
workers' connections are closed first, so that each is created again under it.
"""

from __future__ import annotations

import threading

import pytest
from django.db.backends.signals import connection_created

from chat.llm.echo import EchoModel
from tests.helpers import assistant_text, user_input

pytestmark = pytest.mark.django_db(transaction=True)

MAX_STATEMENTS_PER_TURN = 6


class StatementLog:
    """Records every SQL statement run on any connection, in any thread."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._lock = threading.Lock()
        self.active = False

    def __call__(self, execute, sql, params, many, context):
        if self.active:
            with self._lock:
                self.statements.append(sql)
        return execute(sql, params, many, context)

    def on_connection(self, sender, connection, **kwargs) -> None:
        if self not in connection.execute_wrappers:
            connection.execute_wrappers.append(self)


@pytest.fixture
def statement_log():
    from django.db import connections

    from chat.workers import close_worker_connections

    log = StatementLog()
    close_worker_connections()
    connection_created.connect(log.on_connection, weak=False)
    # Connections that are already open (the test thread's) get it too.
    for conn in connections.all(initialized_only=True):
        log.on_connection(None, conn)
    yield log
    connection_created.disconnect(log.on_connection)
    for conn in connections.all(initialized_only=True):
        if log in conn.execute_wrappers:
            conn.execute_wrappers.remove(log)


@pytest.fixture
def echo(use_model, settings):
    use_model(EchoModel(delay=0))
    # Heartbeats are time's work, not a turn's: every 2 s, one slice every 62 ms. A turn slowed
    # to ~0.4 s on a loaded machine caught its own beat (one statement more, CI 2026-12-02).
    settings.CHATKIT_TURN_HEARTBEAT_SECONDS = 3600


async def test_one_turn_runs_at_most_6_statements(client, echo, statement_log):
    thread_id, _ = await client.new_thread("First message of the thread")
    # A second turn first, so the measured one is a steady-state turn.
    await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("warm up"))

    words = " ".join(f"word{i}" for i in range(50))
    statement_log.active = True
    events = await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input(words))
    statement_log.active = False

    assert assistant_text(events) == words
    listing = "\n".join(f"  {i + 1}. {sql[:160]}" for i, sql in enumerate(statement_log.statements))
    assert statement_log.statements, "the counter saw no SQL: it is not installed on the worker threads"
    assert len(statement_log.statements) <= MAX_STATEMENTS_PER_TURN, (
        f"one turn ran {len(statement_log.statements)} SQL statements (budget {MAX_STATEMENTS_PER_TURN}):\n{listing}"
    )


async def test_statement_count_does_not_grow_with_history(client, echo, statement_log):
    thread_id, _ = await client.new_thread("grow")
    counts = []
    for turn in range(4):
        statement_log.statements.clear()
        statement_log.active = True
        await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input(f"turn {turn}"))
        statement_log.active = False
        counts.append(len(statement_log.statements))
    assert len(set(counts)) == 1, f"statements per turn changed as the thread grew: {counts}"
