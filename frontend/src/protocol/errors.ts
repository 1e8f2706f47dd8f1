// One error type for everything that can go wrong talking to /chatkit, so the
// UI shows a single kind of message whatever the cause.

export type ChatKitErrorKind = "http" | "network" | "stream" | "protocol";

export class ChatKitError extends Error {
  readonly kind: ChatKitErrorKind;
  readonly code: string;
  readonly status: number | null;
  readonly allowRetry: boolean;

  constructor(
    kind: ChatKitErrorKind,
    code: string,
    message: string,
    opts: { status?: number | null; allowRetry?: boolean } = {},
  ) {
    super(message);
    this.name = "ChatKitError";
    this.kind = kind;
    this.code = code;
    this.status = opts.status ?? null;
    this.allowRetry = opts.allowRetry ?? false;
  }
}

/** The words a person reads for a stream `error` event without a message. */
export function describeErrorCode(code: string): string {
  switch (code) {
    case "stream.error":
      return "Something went wrong while answering.";
    default:
      return `The server reported an error (${code}).`;
  }
}

/** Turns a non-2xx response (JSON `{"error": {code, message}}` or anything else) into a ChatKitError. */
export async function errorFromResponse(res: Response): Promise<ChatKitError> {
  let code = `http_${res.status}`;
  let message = `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ""}.`;
  try {
    const body: unknown = await res.json();
    const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (err && typeof err === "object") {
      if (typeof err.code === "string") code = err.code;
      if (typeof err.message === "string" && err.message) message = err.message;
    }
  } catch {
    // Not JSON (a proxy page, Django's CSRF page): keep the status text.
    if (res.status === 403) message = "The request was refused (403). Reload the page and try again.";
  }
  // A rate limit (429) passes: its message says when, and retrying then works.
  const allowRetry = res.status >= 500 || res.status === 429;
  return new ChatKitError("http", code, message, { status: res.status, allowRetry });
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException ? err.name === "AbortError" : (err as { name?: string })?.name === "AbortError";
}
