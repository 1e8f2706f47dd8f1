"""Turn starts take turns: at most ``CHATKIT_STARTING_TURNS`` streams of an event loop start at once.

Starting a turn costs its event loop far more than streaming one of its
events: about 15 ms of CPU on this project's 2-core bench machine (the
request, the SDK's processing, the history, the agent, the agent run's
set-up), against a fraction of a millisecond per event. The loop runs what
is ready first come, first served, so when turns start faster than it can
take them (500 streams opened in 5 s, issue 15), every open stream's next
event waits behind all those starts, and the answers already streaming
stutter by seconds.

So a streamed request waits for a start permit (:class:`StartGate`, one per
event loop) before its stream begins, and gives it back once its agent run is
launched (:func:`started`, from :class:`chat.server.ChatServer`, right after
``Runner.run_streamed``: the run's own set-up and its model call then go on
in the run's task, so a remote model's time to first token never holds a
permit), or when its stream ends, however it ends. Waiting starts cost
nothing; the events of open streams go first. A permit still held after
:data:`HOLD_SECONDS` (a stream that never calls a model, e.g. a long custom
action, or one cut while starting whose generator is finalised late) is
given back anyway, so the gate can slow starts down but never stop them.
``CHATKIT_STARTING_TURNS = 0`` turns the gate off.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref

from .conf import app_settings
from .context import RequestContext

# Seconds after which a permit goes back by itself, whatever its stream is doing.
HOLD_SECONDS = 1.0


class Permit:
    """One stream's place among the starting ones; :meth:`release` gives it back (idempotent)."""

    __slots__ = ("_gate", "_timer")

    def __init__(self, gate: StartGate, loop: asyncio.AbstractEventLoop) -> None:
        self._gate: StartGate | None = gate
        self._timer = loop.call_later(HOLD_SECONDS, self.release)

    def release(self) -> None:
        """Give the place back to the next waiting start (once; later calls do nothing)."""
        gate, self._gate = self._gate, None
        if gate is not None:
            self._timer.cancel()
            gate.held -= 1
            gate.semaphore.release()


class StartGate:
    """The running event loop's start permits: ``size`` of them (``CHATKIT_STARTING_TURNS``).

    Args:
        size: how many streams may be starting at once (>= 1).
    """

    _by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StartGate] = weakref.WeakKeyDictionary()

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a start gate needs at least one permit, not {size}")
        self.size = size
        self.semaphore = asyncio.Semaphore(size)
        self.held = 0  # permits streams hold now

    @classmethod
    def of_running_loop(cls) -> StartGate | None:
        """The running loop's gate for the current ``CHATKIT_STARTING_TURNS``; ``None`` when that is 0."""
        size = app_settings.CHATKIT_STARTING_TURNS
        if size <= 0:
            return None
        loop = asyncio.get_running_loop()
        gate = cls._by_loop.get(loop)
        if gate is None or gate.size != size:  # first use, or the setting changed (tests)
            gate = cls._by_loop[loop] = cls(size)
        return gate

    async def enter(self) -> Permit:
        """Wait for a permit (FIFO among the waiting starts). Cancelling the wait takes none."""
        await self.semaphore.acquire()
        self.held += 1
        return Permit(self, asyncio.get_running_loop())

    def free(self) -> int:
        """How many permits no stream holds now."""
        return self.size - self.held


@contextlib.asynccontextmanager
async def starting(context: RequestContext):
    """Hold a start permit for ``context``'s stream from its beginning until :func:`started` or its end."""
    gate = StartGate.of_running_loop()
    if gate is None:
        yield
        return
    permit = await gate.enter()
    context.turn.start = permit
    try:
        yield
    finally:
        context.turn.start = None
        permit.release()


def started(context: RequestContext) -> None:
    """The stream of ``context`` has launched its agent run: its start permit goes to the next start."""
    permit = context.turn.start
    if permit is not None:
        context.turn.start = None
        permit.release()
