import { describe, expect, it, vi } from "vitest";
import { ChatKitClient, type FetchLike } from "./client";
import { ChatKitError } from "./errors";
import { reduceEvent, initialConversation, itemText } from "./reducer";
import { listThreads, sendMessage } from "./requests";
import { collect, frame, sseResponse } from "./testUtils";
import type { ThreadStreamEvent } from "./types";

const T = "2026-01-01T00:00:00";

function clientWith(fetchImpl: FetchLike) {
  return new ChatKitClient({ url: "/chatkit", fetch: fetchImpl });
}

describe("ChatKitClient.stream", () => {
  it("posts JSON and folds a streamed answer into state", async () => {
    const fetchImpl = vi.fn<FetchLike>(async () =>
      sseResponse([
        frame({ type: "thread.created", thread: { id: "thr_1", created_at: T, title: null } }),
        frame({ type: "thread.item.done", item: { id: "u1", thread_id: "thr_1", created_at: T, type: "user_message", content: [{ type: "input_text", text: "hi there" }], inference_options: {} } }),
        frame({ type: "thread.item.added", item: { id: "a1", thread_id: "thr_1", created_at: T, type: "assistant_message", content: [] } }).slice(0, 30),
        frame({ type: "thread.item.added", item: { id: "a1", thread_id: "thr_1", created_at: T, type: "assistant_message", content: [] } }).slice(30) +
          frame({ type: "thread.item.updated", item_id: "a1", update: { type: "assistant_message.content_part.text_delta", content_index: 0, delta: "hi " } }),
        frame({ type: "thread.item.updated", item_id: "a1", update: { type: "assistant_message.content_part.text_delta", content_index: 0, delta: "there" } }),
      ]),
    );
    const { events, push } = collect();
    await clientWith(fetchImpl).stream(sendMessage(null, "hi there"), push);

    const [url, init] = fetchImpl.mock.calls[0]!;
    expect(url).toBe("/chatkit");
    expect(init?.method).toBe("POST");
    expect(JSON.parse(String(init?.body))).toMatchObject({ type: "threads.create" });
    const state = events.reduce(reduceEvent, initialConversation);
    expect(state.thread?.id).toBe("thr_1");
    expect(state.items.map((i) => i.type)).toEqual(["user_message", "assistant_message"]);
    expect(itemText(state.items[1]!)).toBe("hi there");
  });

  it("turns an HTTP 4xx JSON error into a ChatKitError with the server's code and message", async () => {
    const body = JSON.stringify({ error: { code: "not_found", message: "No such thread." } });
    const client = clientWith(async () => new Response(body, { status: 404, headers: { "Content-Type": "application/json" } }));
    const err = await client.stream(sendMessage("thr_x", "hi"), () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatKitError);
    expect(err).toMatchObject({ kind: "http", status: 404, code: "not_found", message: "No such thread.", allowRetry: false });
  });

  it("shows a rate limit's own message and lets the user retry it", async () => {
    const body = JSON.stringify({ error: { code: "rate_limited", message: "Too many messages: at most 20 a minute. Try again in 12 s." } });
    const client = clientWith(async () => new Response(body, { status: 429, headers: { "Content-Type": "application/json", "Retry-After": "12" } }));
    const err = await client.stream(sendMessage("thr_x", "hi"), () => {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "http", status: 429, code: "rate_limited", allowRetry: true });
    expect((err as Error).message).toMatch(/Try again in 12 s/);
  });

  it("explains a 403 that is not JSON (Django's CSRF page)", async () => {
    const client = clientWith(async () => new Response("<html>CSRF verification failed</html>", { status: 403 }));
    const err = await client.request(listThreads(20)).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "http", status: 403, code: "http_403" });
    expect((err as Error).message).toMatch(/Reload the page/);
  });

  it("reports a network failure as a retryable ChatKitError", async () => {
    const client = clientWith(async () => {
      throw new TypeError("Failed to fetch");
    });
    const err = await client.stream(sendMessage(null, "hi"), () => {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "network", code: "network_error", allowRetry: true });
  });

  it("reports a stream cut mid-way as a retryable error, after the events that did arrive", async () => {
    const enc = new TextEncoder();
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulls++ === 0) c.enqueue(enc.encode(frame({ type: "progress_update", text: "Working" })));
        else c.error(new TypeError("network error"));
      },
    });
    const { events, push } = collect();
    const err = await clientWith(async () => new Response(body, { status: 200 })).stream(sendMessage(null, "hi"), push).catch((e: unknown) => e);
    expect(events).toHaveLength(1);
    expect(err).toMatchObject({ kind: "network", code: "stream_interrupted", allowRetry: true });
  });

  it("passes an `error` event through to the state as a shown error", async () => {
    const client = clientWith(async () => sseResponse([frame({ type: "error", code: "custom", message: "Model unavailable", allow_retry: true })]));
    const events: ThreadStreamEvent[] = [];
    await client.stream(sendMessage("thr_1", "hi"), (e) => events.push(e));
    const state = events.reduce(reduceEvent, initialConversation);
    expect(state.error).toEqual({ code: "custom", message: "Model unavailable", allowRetry: true });
  });

  it("rejects with AbortError when the stop button aborts", async () => {
    const controller = new AbortController();
    const client = clientWith(async (_url, init) => {
      const signal = init?.signal;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode(frame({ type: "progress_update", text: "Working" })));
          signal?.addEventListener("abort", () => c.error(new DOMException("Aborted", "AbortError")));
        },
      });
      return new Response(body, { status: 200 });
    });
    const seen: ThreadStreamEvent[] = [];
    const pending = client.stream(sendMessage(null, "hi"), (e) => {
      seen.push(e);
      controller.abort();
    }, controller.signal);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(seen).toHaveLength(1);
  });
});

describe("ChatKitClient.request", () => {
  it("returns the JSON answer", async () => {
    const page = { data: [], has_more: false, after: null };
    const fetchImpl = vi.fn<FetchLike>(async () => new Response(JSON.stringify(page), { status: 200 }));
    await expect(clientWith(fetchImpl).request(listThreads(20))).resolves.toEqual(page);
    expect(new Headers(fetchImpl.mock.calls[0]![1]?.headers).get("Content-Type")).toBe("application/json");
  });
});
