import { describe, expect, it } from "vitest";
import { ChatKitError } from "./errors";
import { createEventStreamDecoder, readEventStream } from "./sse";
import { chunkedBody, collect, frame } from "./testUtils";

const delta = (d: string) => ({
  type: "thread.item.updated",
  item_id: "msg_1",
  update: { type: "assistant_message.content_part.text_delta", content_index: 0, delta: d },
});

describe("SSE framing", () => {
  it("joins a frame split across network chunks", async () => {
    const text = frame(delta("héllo wörld")) + frame({ type: "progress_update", text: "Thinking" });
    // Split at every possible point, including inside "data:" and inside a UTF-8 sequence.
    const bytes = new TextEncoder().encode(text);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const { events, push } = collect();
      await readEventStream(chunkedBody([bytes.slice(0, cut), bytes.slice(cut)]), push);
      expect(events).toHaveLength(2);
      expect(events[0]).toEqual(delta("héllo wörld"));
      expect(events[1]).toEqual({ type: "progress_update", text: "Thinking" });
    }
  });

  it("delivers one byte at a time", async () => {
    const bytes = new TextEncoder().encode(frame(delta("a")) + frame(delta("b")));
    const chunks = Array.from(bytes, (b) => new Uint8Array([b]));
    const { events, push } = collect();
    await readEventStream(chunkedBody(chunks), push);
    expect(events.map((e) => (e.type === "thread.item.updated" && "delta" in e.update ? e.update.delta : ""))).toEqual(["a", "b"]);
  });

  it("reads several frames in one chunk and CRLF line endings", async () => {
    const { events, push } = collect();
    const crlf = frame(delta("y")).replace(/\n/g, "\r\n");
    await readEventStream(chunkedBody([frame(delta("x")) + crlf + frame(delta("z"))]), push);
    expect(events).toHaveLength(3);
  });

  it("drops an unterminated last frame, as the SSE spec says", async () => {
    const { events, push } = collect();
    await readEventStream(chunkedBody([frame(delta("kept")), `data: ${JSON.stringify(delta("end"))}\n`]), push);
    expect(events).toEqual([delta("kept")]);
  });

  it("ignores comments and keep-alives", async () => {
    const { events, push } = collect();
    await readEventStream(chunkedBody([": ping\n\n", frame(delta("q"))]), push);
    expect(events).toHaveLength(1);
  });

  it("rejects a frame that is not JSON", () => {
    const dec = createEventStreamDecoder(() => {});
    expect(() => dec.feed("data: {nope\n\n")).toThrow(ChatKitError);
  });
});
