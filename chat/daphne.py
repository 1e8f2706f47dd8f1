"""daphne's answers leave at once, as uvicorn's do (``manage.py runserver``, the ``daphne`` command).

Twisted's TCP transport never sends from ``write()``: it appends the bytes to
its buffer and registers the socket with the reactor, and the reactor sends
them when its next ``select`` finds the socket writable, then unregisters it.
Under daphne (Twisted on the asyncio loop) every SSE event therefore costs a
``loop.add_writer`` and a ``loop.remove_writer`` (two ``epoll_ctl`` calls:
112 a 56-event turn, measured with ``strace -c``), one more loop turn and
Twisted's per-callback logging context, and the first event waits behind
whatever else the loop has ready: about 2-3 ms more time to first event than
uvicorn on this project's 2-core machine, and ~10 % more turn latency
(``bench/results/profile-issue15-daphne.md``). asyncio's own transports, which
uvicorn uses, try ``send()`` at once and buffer only what the kernel refuses.

:class:`PromptServer` does the same for Twisted's server-side TCP connections,
and :func:`send_promptly` makes every listening TCP port use it through
Twisted's documented hook: ``twisted.internet.tcp.Port.transport`` is "called
with the signature expected for ``Server.__init__``, so it can be replaced"
(the ``Port`` docstring). ``ChatConfig.ready()`` calls it; it changes nothing
under uvicorn, which opens no Twisted port. TCP_NODELAY needs nothing: Twisted's
``HTTPChannel.connectionMade`` sets it on every HTTP connection.

The buffer state read here (``dataBuffer``, ``offset``, ``_tempDataLen``,
``_writeDisconnected``) is Twisted's private API, pinned with the rest in
``chat/compat.py`` (``PINNED["Twisted"]``) and checked by ``tests/test_daphne.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from twisted.internet import tcp

__all__ = ["PromptServer", "send_promptly"]


class PromptServer(tcp.Server):
    """A Twisted server-side TCP connection whose writes go to the socket at once when nothing is queued.

    Bytes the kernel doesn't take (a full send buffer), writes behind queued
    bytes, writes larger than ``SEND_LIMIT`` (128 KiB, Twisted's own chunk),
    writes after ``loseConnection()`` and writes over TLS started on the
    connection itself go Twisted's usual way, so order, back-pressure
    (``pauseProducing``) and closing are Twisted's. A send error is left to
    Twisted too: the bytes are queued, and the reactor's own write meets the
    error and closes the connection as it always does.
    """

    def _idle(self) -> bool:
        """Nothing queued and the connection open for writing: a write now can't overtake older bytes."""
        return (
            self.connected
            and not self.disconnecting
            and not self._writeDisconnected
            and not self.TLS
            and not self._tempDataLen
            and self.offset == len(self.dataBuffer)
        )

    def write(self, data: bytes) -> None:
        if data and len(data) <= self.SEND_LIMIT and self._idle():
            try:
                sent = self.socket.send(data)
            except OSError:  # EAGAIN: the kernel's buffer is full; anything else: Twisted reports it
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        super().write(data)

    def writeSequence(self, iovec: Iterable[bytes]) -> None:
        iovec = list(iovec)
        if self._idle():
            # One send for the pieces (a chunk's size line, the data, its CRLF), as Twisted's doWrite joins them.
            self.write(b"".join(iovec))
        else:
            super().writeSequence(iovec)


def send_promptly() -> None:
    """Make every Twisted TCP port accept its connections as :class:`PromptServer` (idempotent).

    Must run before the reactor accepts the first connection; daphne's
    ``Server`` creates its ports when it runs, after Django is set up.
    """
    tcp.Port.transport = PromptServer
