// The history sidebar's data: threads newest first, paged with threads.list.
import { useCallback, useRef, useState } from "react";
import type { ChatKitClient } from "../protocol/client";
import { ChatKitError } from "../protocol/errors";
import { listThreads } from "../protocol/requests";
import type { Page, ThreadMetadata } from "../protocol/types";

export const THREAD_PAGE_SIZE = 20;

export interface ThreadList {
  threads: ThreadMetadata[];
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  reload: () => Promise<void>;
  loadMore: () => Promise<void>;
  upsert: (thread: ThreadMetadata) => void;
  remove: (threadId: string) => void;
}

function message(err: unknown): string {
  return err instanceof ChatKitError ? err.message : "Could not load your chats.";
}

export function useThreadList(client: ChatKitClient): ThreadList {
  const [threads, setThreads] = useState<ThreadMetadata[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cursor = useRef<string | null>(null);

  const fetchPage = useCallback(
    async (after: string | null) => {
      setLoading(true);
      setError(null);
      try {
        const page = await client.request<Page<ThreadMetadata>>(listThreads(THREAD_PAGE_SIZE, after));
        cursor.current = page.after;
        setHasMore(page.has_more);
        setThreads((prev) => {
          const base = after ? prev : [];
          const known = new Set(base.map((t) => t.id));
          return [...base, ...page.data.filter((t) => !known.has(t.id))];
        });
      } catch (err) {
        setError(message(err));
      } finally {
        setLoading(false);
      }
    },
    [client],
  );

  const reload = useCallback(() => fetchPage(null), [fetchPage]);
  const loadMore = useCallback(() => fetchPage(cursor.current), [fetchPage]);
  const upsert = useCallback((thread: ThreadMetadata) => {
    setThreads((prev) => {
      const i = prev.findIndex((t) => t.id === thread.id);
      if (i === -1) return [thread, ...prev];
      const next = prev.slice();
      next[i] = { ...prev[i], ...thread };
      return next;
    });
  }, []);
  const remove = useCallback((threadId: string) => setThreads((prev) => prev.filter((t) => t.id !== threadId)), []);

  return { threads, hasMore, loading, error, reload, loadMore, upsert, remove };
}
