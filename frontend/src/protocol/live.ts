// Live threads: one WebSocket per page that watches the open thread and hands
// over the events other connections' turns write in it (server: chat/live.py,
// chat/consumers.py). No React here. Reconnects with a growing delay and
// subscribes again; without WebSocket support it does nothing.
import type { ThreadStreamEvent } from "./types";

export type LiveListener = (threadId: string, event: ThreadStreamEvent) => void;

interface ServerMessage {
  type: "subscribed" | "event" | "error";
  thread_id: string | null;
  event?: ThreadStreamEvent;
}

/** `/chatkit/live` -> `ws://host/chatkit/live` (or `wss:` on an https page). */
export function socketUrl(path: string, location: { protocol: string; host: string } = window.location): string {
  if (/^wss?:\/\//.test(path)) return path;
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
}

export class LiveThreads {
  private socket: WebSocket | null = null;
  private threadId: string | null = null;
  private retryMs = 500;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly onEvent: LiveListener,
  ) {}

  /** Watch `threadId` (or nothing), replacing the thread watched before. */
  watch(threadId: string | null): void {
    if (threadId === this.threadId) return;
    this.threadId = threadId;
    if (this.socket?.readyState === WebSocket.OPEN) this.sendSubscription();
    else if (threadId && !this.socket) this.connect();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
  }

  private connect(): void {
    if (this.closed || typeof WebSocket === "undefined") return;
    const socket = new WebSocket(socketUrl(this.url));
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 500;
      this.sendSubscription();
    };
    socket.onmessage = (message) => {
      let data: ServerMessage;
      try {
        data = JSON.parse(String(message.data)) as ServerMessage;
      } catch {
        return;
      }
      if (data.type === "event" && data.event && data.thread_id && data.thread_id === this.threadId) {
        this.onEvent(data.thread_id, data.event);
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.closed || !this.threadId) return;
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 15_000);
    };
  }

  private sendSubscription(): void {
    const message = this.threadId ? { type: "subscribe", thread_id: this.threadId } : { type: "unsubscribe" };
    this.socket?.send(JSON.stringify(message));
  }
}
