"""A fixed set of worker threads for every request's sync code (docs/architecture.md, "Threads").

Django's ASGI handler gives each request its own thread-sensitive context,
so each request gets a new worker thread for its ``sync_to_async`` calls
(request signals, sync middleware phases, our store's queries), and that
thread lives as long as the request: an open stream holds one thread, and
with ``CONN_MAX_AGE = 0`` one database connection opened and closed per request.

:class:`WorkerThreads` wraps the ASGI application and enters
``asgiref.sync.ThreadSensitiveContext(executor=...)`` (asgiref >= 3.13)
around each request with one of ``CHATKIT_WORKER_THREADS`` single-thread
executors, so every thread-sensitive call of that request runs on that one
thread, as Django needs, while the threads are shared and fixed in number:
500 open streams cost no thread. Django's own per-request context inside it
then adds nothing ("only the outer-most ThreadSensitiveContext sets the context").

Because the threads live as long as the process, their database connections
can too: ``CONN_MAX_AGE`` > 0 with ``CONN_HEALTH_CHECKS`` (Django checks a
reused connection at each request's start, ``request_started`` ->
``close_old_connections``), at most one connection per worker thread and
database. On PostgreSQL with the psycopg pool (``OPTIONS["pool"]``, which
needs ``CONN_MAX_AGE = 0``) a connection goes back to the pool when each
request ends, as without this module.

Django's own ``request_started`` receivers (``reset_queries`` and
``close_old_connections``) would be one more awaited hop per request, before
any middleware: with a pool they are disconnected and the same two calls run
on the request's worker instead, in the work item of its first sync call.

A request is given the worker with the fewest requests in flight (an idle
open stream counts too; its sync calls are short). Two requests on one worker
run their sync calls one after the other, never at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.core import signals
from django.db import close_old_connections, reset_queries

logger = logging.getLogger(__name__)

THREAD_NAME = "chatkit-worker"

# The worker thread of the request being served (None outside one, or without a pool).
_current_worker: contextvars.ContextVar[Executor | None] = contextvars.ContextVar("chatkit_worker", default=None)


def current_worker() -> Executor | None:
    """The single-thread executor that runs this request's thread-sensitive sync calls, or ``None``.

    ``None`` outside a request served by :class:`WorkerThreads` (or with
    ``CHATKIT_WORKER_THREADS = 0``). Work submitted to it runs after the
    request's calls already queued and before those queued later (one thread,
    first in first out): :mod:`chat.turns` relies on that to batch heartbeats.
    """
    return _current_worker.get()


class WorkerPool:
    """``size`` single-thread executors and the number of requests each has in flight.

    Args:
        size: how many worker threads (>= 1).
    """

    def __init__(self, size: int):
        if size < 1:
            raise ValueError(f"a worker pool needs at least one thread, not {size}")
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{THREAD_NAME}-{i}") for i in range(size)
        ]
        self.in_flight = [0] * size
        self._next = 0

    def take(self) -> int:
        """The index of the least busy worker (ties go round the pool); counts one more request on it."""
        size = len(self.executors)
        start = self._next
        self._next = (start + 1) % size
        best = min(range(start, start + size), key=lambda i: self.in_flight[i % size]) % size
        self.in_flight[best] += 1
        return best

    def give_back(self, index: int) -> None:
        """The request on worker ``index`` has ended."""
        self.in_flight[index] -= 1

    def run_everywhere(self, fn: Callable[[], Any], timeout: float = 30.0) -> list[Any]:
        """Run ``fn()`` once on every worker thread (in turn with their requests' calls); its results.

        For what lives in a worker thread's locals, e.g. closing its database
        connections (:func:`close_worker_connections`). Sync; raises what ``fn`` raises.
        """
        futures: list[Future] = [executor.submit(fn) for executor in self.executors]
        return [f.result(timeout) for f in futures]


_pools: list[WorkerPool] = []
_pools_lock = threading.Lock()


class WorkerThreads:
    """ASGI middleware: each HTTP request's thread-sensitive sync code runs on one of ``threads`` fixed threads.

    Args:
        app: the ASGI application (Django's).
        threads: how many worker threads; 0 leaves Django's default (a new
            thread per request) and makes this a pass-through.

    Other scopes (``lifespan``, ``websocket``) pass through unchanged.
    """

    def __init__(self, app, threads: int):
        self.app = app
        self.pool = WorkerPool(threads) if threads > 0 else None
        if self.pool is not None:
            with _pools_lock:
                _pools.append(self.pool)
            # Django's request_started receivers would cost each request an awaited hop to its
            # worker; they are queued there instead, ahead of the request's first sync call.
            signals.request_started.disconnect(reset_queries)
            signals.request_started.disconnect(close_old_connections)

    async def __call__(self, scope, receive, send) -> None:
        if self.pool is None or scope["type"] != "http":
            return await self.app(scope, receive, send)
        index = self.pool.take()
        executor = self.pool.executors[index]
        end = _ResponseEnd(send)
        token = _current_worker.set(executor)
        end_token = _response_end.set(end)
        try:
            async with ThreadSensitiveContext(executor=_RequestCalls(executor)):
                await self.app(scope, receive, end)
        finally:
            _response_end.reset(end_token)
            _current_worker.reset(token)
            self.pool.give_back(index)
            with contextlib.suppress(Exception):  # a client gone meanwhile: nothing left to end
                await end.release()


# The end of the response of the request being served (None outside WorkerThreads).
_response_end: contextvars.ContextVar[_ResponseEnd | None] = contextvars.ContextVar(
    "chatkit_response_end", default=None
)


def defer_response_end() -> bool:
    """Hold this request's last response message until Django has closed the response; whether it can be.

    Django's ASGI handler sends a streamed response's final, empty
    ``http.response.body`` message and only then runs ``response.close()``
    (one worker-thread hop, ``request_finished``). Once this is called, that
    final message waits until the application returns, so whatever ``close()``
    does (e.g. a turn's release, :func:`chat.turns.running`) is done before
    the client sees the response end, and costs no hop of its own. ``False``
    outside a request served by :class:`WorkerThreads` with a pool: the
    caller then does that work itself. Call it before the response's last body
    message (e.g. as its streaming content ends).
    """
    end = _response_end.get()
    if end is None:
        return False
    end.deferred = True
    return True


class _ResponseEnd:
    """One request's ASGI ``send``, able to hold back the response's final empty body message.

    See :func:`defer_response_end`. Every other message goes straight through.
    """

    __slots__ = ("send", "deferred", "held")

    def __init__(self, send) -> None:
        self.send = send
        self.deferred = False
        self.held: dict | None = None

    async def __call__(self, message: dict) -> None:
        if (
            self.deferred
            and message["type"] == "http.response.body"
            and not message.get("body")
            and not message.get("more_body", False)
        ):
            self.held = message
            return
        await self.send(message)

    async def release(self) -> None:
        """Send the held final message, if any (once the application has returned)."""
        held, self.held = self.held, None
        if held is not None:
            await self.send(held)


class _RequestCalls(Executor):
    """One request's thread-sensitive calls, on its worker: the first runs Django's ``request_started`` work first.

    In the same work item, so a request's first sync call costs no extra
    wake-up of its worker thread; a request that makes no sync call has no
    connection of its worker to check.
    """

    __slots__ = ("worker", "started")

    def __init__(self, worker: Executor) -> None:
        self.worker = worker
        self.started = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if self.started:
            return self.worker.submit(fn, *args, **kwargs)
        self.started = True

        def first_call():
            _request_started()
            return fn(*args, **kwargs)

        return self.worker.submit(first_call)


def _request_started() -> None:
    """What Django's ``request_started`` receivers do (``django/db/__init__.py``), on the request's worker.

    Forget the queries logged under ``DEBUG`` and close connections that are
    past ``CONN_MAX_AGE`` or broken (``close_old_connections``). Sync.
    """
    try:
        reset_queries()
        close_old_connections()
    except Exception:  # nobody awaits this call: say so here
        logger.exception("Checking the database connections of a worker thread failed")


def worker_thread_count() -> int:
    """How many worker threads exist in this process (over every :class:`WorkerThreads`)."""
    return sum(len(p.executors) for p in _pools)


def close_worker_connections() -> None:
    """Close the database connections every worker thread holds (sync; e.g. before counting new ones).

    The next request on each worker opens a fresh connection (and sends
    ``connection_created``). Waits for each worker's current call to finish.
    """
    from django.db import connections

    for pool in list(_pools):
        pool.run_everywhere(connections.close_all)
