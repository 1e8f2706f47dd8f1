// The history sidebar: the person's threads, newest first, with paging.
import { PlusIcon } from "./icons";
import { shortDate, threadTitle } from "./threadTitle";
import type { ThreadList as ThreadListData } from "./useThreadList";

export function ThreadList({
  list,
  currentId,
  onOpen,
  onNew,
}: {
  list: ThreadListData;
  currentId: string | null;
  onOpen: (threadId: string) => void;
  onNew: () => void;
}) {
  return (
    <nav className="flex h-full flex-col" aria-label="Chats">
      <div className="p-3">
        <button type="button" onClick={onNew} className="flex w-full items-center gap-2 rounded-lg border border-zinc-200 bg-white px-3 py-2 text-sm font-medium text-zinc-800 shadow-xs transition hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800" data-testid="new-thread">
          <PlusIcon /> New chat
        </button>
      </div>
      <h2 className="px-4 pb-1 pt-2 text-xs font-semibold uppercase tracking-wide text-zinc-600 dark:text-zinc-400">History</h2>
      <ul className="min-h-0 flex-1 space-y-0.5 overflow-y-auto px-2 pb-3" aria-busy={list.loading} data-testid="thread-list">
        {list.threads.map((t) => {
          const current = t.id === currentId;
          return (
            <li key={t.id}>
              <button
                type="button"
                onClick={() => onOpen(t.id)}
                aria-current={current ? "page" : undefined}
                data-testid="thread-list-item"
                data-thread-id={t.id}
                className={`flex w-full items-baseline gap-2 rounded-lg px-3 py-2 text-left text-sm transition focus-visible:outline-2 focus-visible:outline-indigo-500 ${
                  current
                    ? "bg-zinc-200/70 font-medium text-zinc-900 dark:bg-zinc-800 dark:text-white"
                    : "text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800/60"
                }`}
              >
                <span className="min-w-0 flex-1 truncate" dir="auto">
                  {threadTitle(t)}
                </span>
                <span className="shrink-0 text-xs text-zinc-600 dark:text-zinc-400">{shortDate(t.created_at)}</span>
              </button>
            </li>
          );
        })}
        {!list.loading && list.threads.length === 0 && !list.error && (
          <li className="px-3 py-2 text-sm text-zinc-600 dark:text-zinc-400">No chats yet.</li>
        )}
        {list.error && (
          <li role="alert" className="px-3 py-2 text-sm text-red-700 dark:text-red-300" data-testid="thread-list-error">
            {list.error}{" "}
            <button type="button" className="underline" onClick={() => void list.reload()}>
              Try again
            </button>
          </li>
        )}
        {list.hasMore && (
          <li className="px-1 pt-1">
            <button type="button" onClick={() => void list.loadMore()} disabled={list.loading} className="w-full rounded-lg px-3 py-2 text-sm text-indigo-700 hover:bg-zinc-100 disabled:opacity-50 dark:text-indigo-300 dark:hover:bg-zinc-800" data-testid="thread-list-more">
              {list.loading ? "Loading…" : "Show more"}
            </button>
          </li>
        )}
      </ul>
    </nav>
  );
}
