"""``RuntimeWorker``: the one thread that runs an embedded model's blocking llama.cpp calls, in order.

:class:`chat.llm.local.LocalModel` measures the prompt, decides on a tool call
and generates on this thread, instead of a new ``threading.Thread`` per
generation plus an ``asyncio.to_thread`` hop to measure the prompt first:
before llama.cpp even began, those cost 4-10 ms of a 36-50 ms time to first
token on this 2-core machine (bench/results/profile-issue15-llm.md). The model
runs one generation at a time anyway, so one thread loses nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["RuntimeWorker"]

T = TypeVar("T")


class RuntimeWorker:
    """A daemon thread that runs submitted calls one at a time, first submitted first.

    Args:
        name: the thread's name (``threading.Thread.name``), e.g. ``"local-llm"``.

    The thread starts on the first :meth:`submit` and then waits for work for
    the life of the process. It is a daemon: a generation still running at
    exit does not keep the process alive (``concurrent.futures`` executors
    join their threads at exit). A call must not wait for a later one (it
    would wait for ever); a call's exception goes to its future.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.SimpleQueue[tuple[concurrent.futures.Future[Any], Callable[..., Any], tuple]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, fn: Callable[..., T], /, *args: Any) -> concurrent.futures.Future[T]:
        """Queue ``fn(*args)``; return its future (cancelling it before it starts skips the call)."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((future, fn, args))
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()
        return future

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``await`` ``fn(*args)`` run on the worker (as ``asyncio.to_thread``, on this one thread)."""
        return await asyncio.wrap_future(self.submit(fn, *args))

    def _run(self) -> None:
        while True:
            future, fn, args = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while it waited
            try:
                result = fn(*args)
            except BaseException as exc:  # the caller's to see, not this thread's end
                future.set_exception(exc)
            else:
                future.set_result(result)
            del future, fn, args  # drop references (a request, a queue) before the next wait
