"""Turn starts take turns (chat.starts), through the real ASGI application.

Only the language model is the echo model; a turn's start is made slow by
wrapping the server's history read (the part of the start that hops to a
worker thread) with a wait, so starts that overlap can be seen overlapping.
"""

from __future__ import annotations

import asyncio

import pytest

from chat import server as server_module
from chat import starts
from tests.helpers import assistant_text
from tests.test_turns import claim_of, stored, words

pytestmark = pytest.mark.django_db(transaction=True)


async def until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.01)


@pytest.fixture
def slow_starts(monkeypatch):
    """Each start's history read waits ``hold`` seconds (or for ``gate``); records how many overlap."""
    state = {"now": 0, "most": 0, "entered": 0, "hold": 0.05, "gate": None}
    real = server_module.ChatServer._history_and_templates

    async def slow(self, thread_id, context):
        state["now"] += 1
        state["entered"] += 1
        if state["entered"] == 2:
            state["second_at"] = asyncio.get_running_loop().time()
        state["most"] = max(state["most"], state["now"])
        try:
            if state["gate"] is not None and state["entered"] == 1:
                await state["gate"].wait()  # the first start stays in its start until the test says
            else:
                await asyncio.sleep(state["hold"])
            return await real(self, thread_id, context)
        finally:
            state["now"] -= 1

    monkeypatch.setattr(server_module.ChatServer, "_history_and_templates", slow)
    return state


@pytest.mark.parametrize("size", [1, 0], ids=["gate of one", "no gate"])
async def test_starts_wait_for_a_permit_and_every_permit_comes_back(
    make_client, settings, slow_starts, monkeypatch, size
):
    settings.CHATKIT_STARTING_TURNS = size
    monkeypatch.setattr(starts, "HOLD_SECONDS", 30.0)  # a slow machine must not hand a permit back early
    texts = [words(8, f"t{i}") for i in range(6)]

    results = await asyncio.gather(*(make_client().new_thread(text) for text in texts))

    for text, (thread_id, events) in zip(texts, results):
        assert assistant_text(events) == text
        assert await stored(thread_id) == [("user_message", text), ("assistant_message", text)]
        assert await claim_of(thread_id) is None
    if size:
        assert slow_starts["most"] == 1  # one start at a time; the others waited for its permit
        gate = starts.StartGate.of_running_loop()
        assert gate.free() == size  # every permit came back
    else:
        assert slow_starts["most"] > 1  # without the gate the same starts overlap


async def test_a_permit_held_too_long_goes_back_by_itself(make_client, settings, slow_starts, monkeypatch):
    """A start that keeps its permit past HOLD_SECONDS doesn't stop the next one."""
    settings.CHATKIT_STARTING_TURNS = 1
    monkeypatch.setattr(starts, "HOLD_SECONDS", 0.2)
    slow_starts["gate"] = asyncio.Event()
    first = asyncio.create_task(make_client().new_thread("first " + words(4, "a")))
    await asyncio.wait_for(until(lambda: slow_starts["entered"] == 1), timeout=10)
    held_at = asyncio.get_running_loop().time()
    gate = starts.StartGate.of_running_loop()
    assert gate.free() == 0  # the first start holds the only permit

    second_thread, second_events = await asyncio.wait_for(make_client().new_thread("second"), timeout=10)

    assert assistant_text(second_events) == "second"  # answered while the first start still holds on
    assert slow_starts["entered"] == 2 and not first.done()
    assert slow_starts["second_at"] - held_at >= 0.15  # it waited for the permit to go back by itself
    slow_starts["gate"].set()
    thread_id, events = await asyncio.wait_for(first, timeout=10)
    assert assistant_text(events) == "first " + words(4, "a")
    assert starts.StartGate.of_running_loop().free() == 1
    assert await claim_of(thread_id) is None and await claim_of(second_thread) is None
