// Our own ChatKit client, for when OpenAI's script can't load (offline, CDN
// blocked) or when the site asks for it. Speaks the same /chatkit protocol.
import { useCallback, useEffect, useMemo, useState } from "react";
import type { PageConfig } from "../app/config";
import { makeCsrfFetch } from "../app/csrf";
import { useThemeStore, useThreadStore } from "../app/store";
import { ChatKitClient } from "../protocol/client";
import { Composer } from "./Composer";
import { ThreadHeader } from "./ThreadHeader";
import { ThreadList } from "./ThreadList";
import { ThreadView } from "./ThreadView";
import { useConversation } from "./useConversation";
import { useThreadList } from "./useThreadList";

export function BuiltinChat({ config }: { config: PageConfig }) {
  const client = useMemo(() => new ChatKitClient({ url: config.apiUrl, fetch: makeCsrfFetch() }), [config.apiUrl]);
  const theme = useThemeStore((s) => s.theme);
  const threadId = useThreadStore((s) => s.threadId);
  const setThreadId = useThreadStore((s) => s.setThreadId);
  const [sidebarOpen, setSidebarOpen] = useState(false);

  const list = useThreadList(client);
  const convo = useConversation(client, { onThread: list.upsert });
  const { state } = convo;

  useEffect(() => {
    void list.reload();
  }, [list.reload]);

  // The URL (and the store) say which thread is open; load it when it changes,
  // except when it changed because our own stream just created that thread.
  const openId = state.thread?.id ?? null;
  // Deliberately keyed on one id each: the two effects keep URL and view in step.
  useEffect(() => {
    if (threadId !== openId) void convo.open(threadId);
  }, [threadId]);
  useEffect(() => {
    if (openId && openId !== threadId) setThreadId(openId, "push");
  }, [openId]);

  const openThread = useCallback(
    (id: string | null) => {
      setSidebarOpen(false);
      if (id === threadId && id !== null) return;
      setThreadId(id, "push");
      if (id === null) void convo.open(null);
    },
    [threadId, setThreadId, convo],
  );

  const onDelete = async () => {
    const deleted = await convo.remove();
    if (deleted) {
      list.remove(deleted);
      setThreadId(null, "replace");
    }
  };

  return (
    <div className="flex h-full bg-white text-zinc-900 dark:bg-zinc-950 dark:text-zinc-100" data-testid="builtin-chat">
      <aside
        className={`${sidebarOpen ? "fixed inset-y-0 left-0 z-20 flex shadow-xl" : "hidden"} w-72 shrink-0 flex-col border-r border-zinc-200 bg-zinc-50 md:static md:flex md:shadow-none dark:border-zinc-800 dark:bg-zinc-900`}
      >
        <ThreadList list={list} currentId={openId} onOpen={openThread} onNew={() => openThread(null)} />
      </aside>
      {sidebarOpen && <div className="fixed inset-0 z-10 bg-black/30 md:hidden" onClick={() => setSidebarOpen(false)} aria-hidden="true" />}
      <main className="flex min-w-0 flex-1 flex-col">
        <ThreadHeader thread={state.thread} busy={state.streaming} onRename={convo.rename} onDelete={onDelete} onToggleSidebar={() => setSidebarOpen((o) => !o)} />
        <ThreadView
          state={state}
          theme={theme}
          actions={{ retry: convo.retry, feedback: convo.sendFeedback, action: convo.action }}
          onLoadEarlier={() => void convo.loadEarlier()}
          onPrompt={(p) => void convo.send(p)}
          onRetry={() => convo.retry()}
          onDismissError={convo.dismissError}
        />
        {(state.thread?.status?.type === "locked" || state.thread?.status?.type === "closed") && (
          // The moderator's reason, worded like the server's refusal (chat/threads.py refusal_for).
          <p className="border-t border-zinc-200 px-4 py-2 text-sm text-amber-700 dark:border-zinc-800 dark:text-amber-400" role="status" data-testid="thread-status">
            {`This thread is ${state.thread.status.type}${state.thread.status.reason ? `: ${state.thread.status.reason}` : "."}`}
          </p>
        )}
        <Composer
          streaming={state.streaming}
          disabled={state.loading || state.thread?.status?.type === "locked" || state.thread?.status?.type === "closed"}
          allowCancel={state.allowCancel}
          onSend={convo.send}
          onStop={convo.stop}
          focusKey={openId}
        />
      </main>
    </div>
  );
}
