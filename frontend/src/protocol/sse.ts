// Reads a text/event-stream body into parsed ChatKit events. eventsource-parser
// does the framing, so a `data:` line split across network chunks (or several
// frames in one chunk) comes out whole.
import { createParser } from "eventsource-parser";
import { ChatKitError } from "./errors";
import type { ThreadStreamEvent } from "./types";

/** Feeds text chunks; calls `onEvent` once per complete frame. */
export function createEventStreamDecoder(onEvent: (event: ThreadStreamEvent) => void) {
  const parser = createParser({
    onEvent(message) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message.data);
      } catch {
        throw new ChatKitError("protocol", "bad_frame", "The server sent a frame that is not JSON.");
      }
      if (!parsed || typeof parsed !== "object" || typeof (parsed as { type?: unknown }).type !== "string") {
        throw new ChatKitError("protocol", "bad_frame", "The server sent a frame without a type.");
      }
      onEvent(parsed as ThreadStreamEvent);
    },
  });
  return {
    feed: (chunk: string) => parser.feed(chunk),
  };
}

/** Reads a whole response body, decoding UTF-8 across chunk boundaries. */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: ThreadStreamEvent) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  const frames = createEventStreamDecoder(onEvent);
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      frames.feed(decoder.decode(value, { stream: true }));
    }
    // A last frame without its blank line is dropped, as the SSE spec says.
    frames.feed(decoder.decode());
  } finally {
    reader.releaseLock();
  }
}
