"""chat.daphne: daphne's TCP connections send each write at once, as uvicorn's asyncio transports do.

The first tests drive a real Twisted TCP port and real sockets by hand, with
the reactor *not* running, so "sent at once" is exact: the peer can read the
bytes before the reactor has had a turn. The last ones run the real daphne
command and ``manage.py runserver`` and stream a turn through them.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from twisted.internet import main, protocol, reactor, tcp
from twisted.python import failure

from chat.daphne import PromptServer
from tests.helpers import CSRF_TOKEN, user_input
from tests.servers import live_server


class _Accepting(protocol.Factory):
    protocol = protocol.Protocol

    def __init__(self):
        self.built: list[protocol.Protocol] = []

    def buildProtocol(self, addr):
        p = super().buildProtocol(addr)
        self.built.append(p)
        return p


@pytest.fixture
def connect():
    """``connect(transport_class=None) -> (server transport, client socket)`` through a real listening port.

    The port's own accept (``doRead``, what the reactor would call) builds the
    connection, so ``tcp.Port.transport`` decides its class unless one is given.
    """
    opened = []

    def _connect(transport_class=None):
        factory = _Accepting()
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        if transport_class is not None:
            port.transport = transport_class
        client = socket.create_connection(("127.0.0.1", port.getHost().port), timeout=5)
        client.setblocking(False)
        port.doRead()
        (server_side,) = factory.built
        opened.append((port, server_side.transport, client))
        return server_side.transport, client

    yield _connect
    for port, transport, client in opened:
        client.close()
        if transport.connected:
            transport.connectionLost(failure.Failure(main.CONNECTION_DONE))
        port.connectionLost(failure.Failure(main.CONNECTION_DONE))


def received(client: socket.socket, timeout: float = 0.0) -> bytes:
    """What the client can read now (or within ``timeout`` seconds), without any reactor turn."""
    client.settimeout(timeout) if timeout else client.setblocking(False)
    out = b""
    try:
        while chunk := client.recv(1 << 20):
            out += chunk
    except (BlockingIOError, TimeoutError):
        pass
    return out


def test_twisteds_private_buffer_still_has_the_shape_prompt_server_reads(connect):
    where = "chat/daphne.py relies on this private API of Twisted (pinned in chat/compat.py)"
    transport, _ = connect(tcp.Server)
    assert transport.dataBuffer == b"" and transport.offset == 0 and transport._tempDataLen == 0, where
    assert transport._writeDisconnected is False and transport.TLS is False, where
    transport.write(b"queued")
    assert transport._tempDataLen == 6 and transport._tempDataBuffer == [b"queued"], where
    assert isinstance(transport.socket, socket.socket) and transport.SEND_LIMIT == 128 * 1024, where


def test_django_setup_makes_twisted_ports_accept_prompt_connections(connect):
    assert tcp.Port.transport is PromptServer  # ChatConfig.ready() ran send_promptly()
    transport, _ = connect()
    assert type(transport) is PromptServer
    # Twisted's HTTP channel sets TCP_NODELAY itself; the connection class keeps Twisted's setter.
    transport.setTcpNoDelay(True)
    assert transport.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_a_write_is_on_the_wire_before_the_reactor_turns(connect):
    transport, client = connect()
    transport.write(b"data: one\n\n")
    transport.writeSequence([b"b\r\n", b"data: two\n\n", b"\r\n"])  # how twisted.web writes a chunk
    assert received(client, timeout=2) == b"data: one\n\nb\r\ndata: two\n\n\r\n"
    assert transport not in reactor.getWriters()  # nothing queued, no writer registered


def test_twisteds_own_connection_waits_for_the_reactor(connect):
    """What PromptServer changes: the stock transport only queues, and sends on the reactor's turn."""
    transport, client = connect(tcp.Server)
    transport.write(b"data: one\n\n")
    time.sleep(0.05)
    assert received(client) == b""
    assert transport in reactor.getWriters()
    assert transport.doWrite() is None  # the reactor's turn
    assert received(client, timeout=2) == b"data: one\n\n"


def test_what_the_kernel_refuses_is_queued_and_later_writes_wait_behind_it(connect):
    transport, client = connect()
    transport.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    big = bytes(range(256)) * 400  # 100 KiB: more than both buffers hold
    transport.write(big)
    assert transport in reactor.getWriters()  # the rest is Twisted's to send
    transport.write(b"tail")  # must not overtake the queued bytes
    got = b""
    deadline = time.monotonic() + 10
    while len(got) < len(big) + 4 and time.monotonic() < deadline:
        got += received(client, timeout=0.05)
        assert transport.doWrite() is None
    assert got == big + b"tail"
    assert transport not in reactor.getWriters()


def test_large_writes_and_writes_after_lose_connection_go_twisteds_way(connect):
    transport, client = connect()
    transport.write(b"x" * (PromptServer.SEND_LIMIT + 1))
    assert transport in reactor.getWriters()

    transport, client = connect()
    transport.loseConnection()
    transport.write(b"late")
    assert received(client) == b""
    assert transport.doWrite() == main.CONNECTION_DONE  # flushed, then closed, as Twisted does
    assert received(client, timeout=2) == b"late"


def _chatkit_post(url: str, text: str, *, close: bool) -> bytes:
    """The raw answer to one ``threads.create`` POST on a fresh connection, read until the server closes it."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({"type": "threads.create", "params": {"input": user_input(text)}}).encode()
    head = (
        f"POST /chatkit HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nCookie: csrftoken={CSRF_TOKEN}\r\nX-CSRFToken: {CSRF_TOKEN}\r\n"
        + ("Connection: close\r\n" if close else "")
        + "\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + body)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    return raw


@pytest.mark.parametrize("server", ["daphne", "runserver"])
def test_daphne_streams_a_whole_turn_and_closes_when_asked(tmp_path, server):
    """The real server on PromptServer: every event arrives in order, the chunked body ends, ``Connection: close`` closes."""
    words = " ".join(f"w{i}" for i in range(30))
    with live_server(tmp_path, server=server) as live:
        raw = _chatkit_post(live.url, words, close=True)  # returns only if the server closes the connection
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"transfer-encoding: chunked" in head.lower()
    assert body.endswith(b"0\r\n\r\n")  # the last chunk: the answer ended cleanly
    events = [json.loads(line[6:]) for line in body.split(b"\n") if line.startswith(b"data: ")]
    types = [e["type"] for e in events]
    assert types[0] == "thread.created" and types.count("thread.item.updated") >= 30
    done = [e["item"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"]
    assert done and done[-1]["content"][0]["text"] == words
