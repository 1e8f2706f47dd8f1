"""RuntimeWorker: the embedded model's one thread for blocking runtime calls."""

from __future__ import annotations

import threading

import pytest

from chat.llm.worker import RuntimeWorker


def test_calls_run_in_order_on_one_daemon_thread():
    worker = RuntimeWorker("test-worker")
    gate = threading.Event()
    seen: list[tuple[int, str]] = []

    def job(n: int) -> int:
        if n == 0:
            assert gate.wait(10)  # later jobs queue behind a running one
        seen.append((n, threading.current_thread().name))
        return n * 10

    futures = [worker.submit(job, n) for n in range(5)]
    gate.set()
    assert [f.result(timeout=10) for f in futures] == [0, 10, 20, 30, 40]
    assert seen == [(n, "test-worker") for n in range(5)]
    assert worker._thread is not None and worker._thread.daemon


def test_an_exception_goes_to_its_future_and_the_worker_goes_on():
    worker = RuntimeWorker("test-worker")

    def fail() -> None:
        raise ValueError("runtime said no")

    failed = worker.submit(fail)
    with pytest.raises(ValueError, match="runtime said no"):
        failed.result(timeout=10)
    assert worker.submit(lambda: "still here").result(timeout=10) == "still here"


def test_a_call_cancelled_while_it_waits_is_skipped():
    worker = RuntimeWorker("test-worker")
    gate = threading.Event()
    ran: list[str] = []
    blocker = worker.submit(gate.wait, 10)
    skipped = worker.submit(ran.append, "skipped")
    assert skipped.cancel()
    gate.set()
    assert blocker.result(timeout=10) is True
    assert worker.submit(ran.append, "ran").result(timeout=10) is None
    assert ran == ["ran"]


async def test_run_awaits_the_call_off_the_event_loop():
    worker = RuntimeWorker("test-worker")
    loop_thread = threading.current_thread().name
    assert await worker.run(lambda: threading.current_thread().name) == "test-worker" != loop_thread
