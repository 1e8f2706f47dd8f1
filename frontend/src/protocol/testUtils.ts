// Helpers for the unit tests: responses built from chunks, like a network would deliver them.
import type { ThreadStreamEvent } from "./types";

export function frame(event: unknown): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}

export function chunkedBody(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === "string" ? enc.encode(c) : c);
      controller.close();
    },
  });
}

export function sseResponse(chunks: (string | Uint8Array)[], status = 200): Response {
  return new Response(chunkedBody(chunks), { status, headers: { "Content-Type": "text/event-stream" } });
}

export function collect(): { events: ThreadStreamEvent[]; push: (e: ThreadStreamEvent) => void } {
  const events: ThreadStreamEvent[] = [];
  return { events, push: (e) => events.push(e) };
}
