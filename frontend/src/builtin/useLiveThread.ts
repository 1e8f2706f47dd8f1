// Watches the open thread over the live socket (protocol/live.ts) for as long
// as the chat is mounted; `onEvent` decides what to do with each event.
import { useEffect, useLayoutEffect, useRef } from "react";
import { LiveThreads, type LiveListener } from "../protocol/live";

export function useLiveThread(url: string, threadId: string | null, onEvent: LiveListener): void {
  const live = useRef<LiveThreads | null>(null);
  const listener = useRef(onEvent);
  useLayoutEffect(() => {
    listener.current = onEvent;
  });

  useEffect(() => {
    const threads = new LiveThreads(url, (id, event) => listener.current(id, event));
    live.current = threads;
    return () => threads.close();
  }, [url]);

  useEffect(() => {
    live.current?.watch(threadId);
  }, [threadId, url]);
}
