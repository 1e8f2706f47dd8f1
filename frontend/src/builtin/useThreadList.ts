// The history sidebar's data: threads newest first, paged with threads.list.
import { useCallback, useRef, useState } from "react";
import type { ChatKitClient } from "../protocol/client";
import { ChatKitError } from "../protocol/errors";
import { listThreads } from "../protocol/requests";
import type { Page, ThreadMetadata } from "../protocol/types";
import { type ListChanges, mergePage, noChanges, recordRemove, recordUpsert, removeThread, upsertThread } from "./threadListChanges";

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
  // The newest page request, and what changed while it was in flight: its page
  // must not undo those (threadListChanges.ts). A reload supersedes any request
  // in flight, whose answer is then dropped; "Show more" does nothing meanwhile.
  const latest = useRef(0);
  const changes = useRef<ListChanges | null>(null);

  const fetchPage = useCallback(
    async (after: string | null) => {
      const seq = ++latest.current;
      const meanwhile = (changes.current = noChanges());
      setLoading(true);
      setError(null);
      try {
        const page = await client.request<Page<ThreadMetadata>>(listThreads(THREAD_PAGE_SIZE, after));
        if (seq !== latest.current) return;
        cursor.current = page.after;
        setHasMore(page.has_more);
        setThreads((prev) => mergePage(after ? prev : [], page.data, meanwhile));
      } catch (err) {
        if (seq === latest.current) setError(message(err));
      } finally {
        if (seq === latest.current) {
          changes.current = null;
          setLoading(false);
        }
      }
    },
    [client],
  );

  const reload = useCallback(() => fetchPage(null), [fetchPage]);
  const loadMore = useCallback(async () => {
    if (!changes.current) await fetchPage(cursor.current); // else a reload in flight may make its cursor stale
  }, [fetchPage]);
  const upsert = useCallback((thread: ThreadMetadata) => {
    if (changes.current) recordUpsert(changes.current, thread);
    setThreads((prev) => upsertThread(prev, thread));
  }, []);
  const remove = useCallback((threadId: string) => {
    if (changes.current) recordRemove(changes.current, threadId);
    setThreads((prev) => removeThread(prev, threadId));
  }, []);

  return { threads, hasMore, loading, error, reload, loadMore, upsert, remove };
}
