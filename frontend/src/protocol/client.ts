// The transport: POSTs ChatKit requests to the endpoint and hands back JSON or
// a stream of events. No React here: the components and the tests share it.
import { ChatKitError, errorFromResponse, isAbort } from "./errors";
import type { JsonRequest, StreamingRequest } from "./requests";
import { readEventStream } from "./sse";
import type { ThreadStreamEvent } from "./types";

export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export interface ChatKitClientOptions {
  url: string;
  fetch: FetchLike;
}

export class ChatKitClient {
  constructor(private readonly opts: ChatKitClientOptions) {}

  private async post(body: unknown, accept: string, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await this.opts.fetch(this.opts.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: accept },
        body: JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (isAbort(err)) throw err;
      throw new ChatKitError("network", "network_error", "Could not reach the server. Check your connection and try again.", {
        allowRetry: true,
      });
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  /** A non-streaming request (lists, get, update, delete, feedback). */
  async request<T>(req: JsonRequest, signal?: AbortSignal): Promise<T> {
    const res = await this.post(req, "application/json", signal);
    try {
      return (await res.json()) as T;
    } catch {
      throw new ChatKitError("protocol", "bad_json", "The server sent an answer that is not JSON.");
    }
  }

  /**
   * A streaming request. Resolves when the stream ends; rejects with a
   * ChatKitError on HTTP or network failure, or with an AbortError when
   * `signal` fires (the caller's stop button).
   */
  async stream(req: StreamingRequest, onEvent: (event: ThreadStreamEvent) => void, signal?: AbortSignal): Promise<void> {
    const res = await this.post(req, "text/event-stream", signal);
    if (!res.body) throw new ChatKitError("protocol", "no_body", "The server sent an empty answer.");
    try {
      await readEventStream(res.body, onEvent);
    } catch (err) {
      if (isAbort(err) || err instanceof ChatKitError) throw err;
      throw new ChatKitError("network", "stream_interrupted", "The answer was cut off. Try again.", { allowRetry: true });
    }
  }
}
