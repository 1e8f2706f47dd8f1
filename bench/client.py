"""A small HTTP/1.1 keep-alive client on raw asyncio streams, cheap enough to load a server.

Each :class:`Client` is one connection and one cookie jar (one owner). It
speaks just what ``POST /chatkit`` needs: Content-Length requests, and
responses framed by Content-Length, chunked encoding or connection close.
Streaming answers are split into SSE frames as they arrive, each stamped with
``time.perf_counter()``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

CSRF = "b" * 32


@dataclass
class Reply:
    status: int
    t_sent: float
    t_first: float | None = None  # first SSE frame (streaming) or first body byte
    t_done: float = 0.0
    frames: list[bytes] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)
    body: bytes = b""
    nframes: int = 0
    tail: list[bytes] = field(default_factory=list)
    error: bool = False

    @property
    def latency(self) -> float:
        return self.t_done - self.t_sent

    @property
    def ttfe(self) -> float:
        return (self.t_first or self.t_done) - self.t_sent

    def events(self) -> list[dict]:
        return [json.loads(f[6:]) for f in self.frames if f.startswith(b"data: ")]

    def ok_turn(self) -> bool:
        """A complete answer: 200, an assistant message done, no error event."""
        if self.status != 200 or not self.frames:
            return False
        frames = self.frames + self.tail
        if self.error or any(b'"type":"error"' in f for f in frames[-8:]):
            return False
        return any(b'"thread.item.done"' in f and b'"assistant_message"' in f for f in frames[-6:])


class Client:
    def __init__(self, host: str, port: int, keep_frames: bool = True):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {"csrftoken": CSRF}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.keep_frames = keep_frames
        self.on_first = None  # called once per reply, when its first bytes arrive

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 22)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except Exception:
                pass
        self.reader = self.writer = None

    def _head(self, body: bytes) -> bytes:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return (
            f"POST /chatkit HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Cookie: {cookie}\r\nX-CSRFToken: {CSRF}\r\n\r\n"
        ).encode()

    async def post(self, payload: dict | bytes) -> Reply:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if self.writer is None or self.reader.at_eof():
            # Never sent on, or closed by the server while idle (keep-alive timeout).
            await self.close()
            await self.connect()
        reply = Reply(status=0, t_sent=time.perf_counter())
        self.writer.write(self._head(body) + body)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            if getattr(exc, "partial", b""):
                raise
            # The server closed the idle connection as we sent: send again on a new one.
            await self.close()
            await self.connect()
            reply.t_sent = time.perf_counter()
            self.writer.write(self._head(body) + body)
            head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        reply.status = int(lines[0].split()[1])
        length = None
        chunked = close = sse = False
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "content-type" and value.startswith("text/event-stream"):
                sse = True
            elif name == "connection" and value.lower() == "close":
                close = True
            elif name == "set-cookie":
                k, _, rest = value.partition("=")
                v = rest.split(";", 1)[0]
                if v and v != '""':
                    self.cookies[k.strip()] = v
        buf = bytearray()
        reader = self.reader
        if length is not None:
            data = await reader.readexactly(length)
            reply.t_first = time.perf_counter()
            self._feed(reply, buf, data, sse)
        elif chunked:
            while True:
                size_line = await reader.readline()
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    await reader.readline()  # the blank line after the last chunk
                    break
                data = await reader.readexactly(size + 2)
                self._feed(reply, buf, data[:-2], sse)
        else:
            close = True
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                self._feed(reply, buf, data, sse)
        if not sse:
            reply.body = bytes(buf)
        reply.t_done = time.perf_counter()
        if close:
            await self.close()
        return reply

    def _feed(self, reply: Reply, buf: bytearray, data: bytes, sse: bool) -> None:
        now = time.perf_counter()
        if reply.t_first is None:
            reply.t_first = now
            if self.on_first is not None:
                self.on_first()
        buf += data
        if not sse:
            return
        while True:
            end = buf.find(b"\n\n")
            if end < 0:
                break
            frame = bytes(buf[:end])
            del buf[: end + 2]
            reply.nframes += 1
            reply.stamps.append(now)
            if self.keep_frames or reply.nframes == 1:
                reply.frames.append(frame)
            else:
                reply.tail.append(frame)
                if len(reply.tail) > 6:
                    del reply.tail[0]
                if b'"type":"error"' in frame:
                    reply.error = True


def user_input(text: str) -> dict:
    return {"content": [{"type": "input_text", "text": text}], "attachments": [], "inference_options": {}}


def create_req(text: str) -> bytes:
    return json.dumps({"type": "threads.create", "params": {"input": user_input(text)}}).encode()


def add_req(thread_id: str, text: str) -> bytes:
    return json.dumps(
        {"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input(text)}}
    ).encode()


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


async def new_thread(client: Client, text: str = "hello") -> str:
    reply = await client.post(create_req(text))
    if reply.status != 200:
        raise RuntimeError(f"threads.create answered {reply.status}: {reply.body[:300]!r}")
    first = json.loads(reply.frames[0][6:])
    return first["thread"]["id"]
