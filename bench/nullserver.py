"""A null HTTP server that answers every POST with canned SSE frames: it measures the client's own cost.

The answer has the shape of a real turn: ``thread.created`` first, one
``thread.item.updated`` frame per word of the request, and a final
``thread.item.done`` assistant message, sent as chunked frames.
"""

from __future__ import annotations

import asyncio
import json
import sys

FIRST = b'data: {"type":"thread.created","thread":{"id":"thr_null","created_at":"2026-01-01T00:00:00","status":{"type":"active"},"metadata":{},"items":{"data":[],"has_more":false}}}\n\n'
DELTA = b'data: {"type":"thread.item.updated","item_id":"msg_0123456789abcdef0123456789abcdef","update":{"type":"assistant_message.content_part.text_delta","content_index":0,"delta":" w1"}}\n\n'
DONE = b'data: {"type":"thread.item.done","item":{"id":"msg_0123456789abcdef0123456789abcdef","thread_id":"thr_null","created_at":"2026-01-01T00:00:00","type":"assistant_message","content":[{"annotations":[],"text":"w","type":"output_text"}]}}\n\n'


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = json.loads(await reader.readexactly(length))
            text = body["params"]["input"]["content"][0]["text"]
            frames = [FIRST] * 6 + [DELTA] * len(text.split()) + [DONE]
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            for frame in frames:
                writer.write(chunk(frame))
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
