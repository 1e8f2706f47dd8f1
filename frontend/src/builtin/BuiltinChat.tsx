// Our own ChatKit client, for when OpenAI's script can't load (offline, CDN
// blocked) or when the site asks for it. Speaks the same /chatkit protocol.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { defaultModel, type ModelChoice, type PageConfig } from "../app/config";
import { makeCsrfFetch } from "../app/csrf";
import { useThemeStore, useThreadStore } from "../app/store";
import { ChatKitClient } from "../protocol/client";
import type { ThreadItem } from "../protocol/types";
import { Composer } from "./Composer";
import { fetchItemState } from "./itemState";
import { ThreadHeader } from "./ThreadHeader";
import { ThreadList } from "./ThreadList";
import { composerReason, STATUS_BANNER_ID, ThreadStatusBanner } from "./ThreadStatus";
import { ThreadView } from "./ThreadView";
import { isReadOnly, useConversation } from "./useConversation";
import { useLiveThread } from "./useLiveThread";
import { useThreadList } from "./useThreadList";

/** The model of the thread's latest user message, when it is still one the user may pick. */
function threadModel(items: ThreadItem[], models: ModelChoice[]): string | null {
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i];
    if (it?.type === "user_message") {
      const id = it.inference_options?.model;
      return id && models.some((m) => m.id === id) ? id : null;
    }
  }
  return null;
}

export function BuiltinChat({ config }: { config: PageConfig }) {
  const csrfFetch = useMemo(() => makeCsrfFetch(), []);
  const client = useMemo(() => new ChatKitClient({ url: config.apiUrl, fetch: csrfFetch }), [config.apiUrl, csrfFetch]);
  const theme = useThemeStore((s) => s.theme);
  const threadId = useThreadStore((s) => s.threadId);
  const setThreadId = useThreadStore((s) => s.setThreadId);
  const [sidebarOpen, setSidebarOpen] = useState(false);

  const list = useThreadList(client);
  const convo = useConversation(client, {
    onThread: list.upsert,
    onMissing: () => setThreadId(null, "replace"),
    loadItemState: (id) => fetchItemState(csrfFetch, config.itemStateUrl, id),
  });
  const { state, open } = convo;
  useLiveThread(config.liveUrl, state.thread?.id ?? null, convo.applyLive);
  const openId = state.thread?.id ?? null;
  const readOnly = isReadOnly(state.thread);

  const { reload } = list;
  useEffect(() => {
    void reload();
  }, [reload]);

  // The URL (and the store) say which thread is open. Load it when the URL
  // changes, but not when it changed because our own stream created that thread.
  const urlShown = useRef<string | null | undefined>(undefined);
  const openShown = useRef<string | null>(openId);
  useEffect(() => {
    if (threadId === urlShown.current) return;
    urlShown.current = threadId;
    if (threadId !== openId) void open(threadId);
  }, [threadId, openId, open]);
  useEffect(() => {
    if (openId === openShown.current) return;
    openShown.current = openId;
    if (openId && openId !== threadId) {
      urlShown.current = openId;
      setThreadId(openId, "push");
    }
  }, [openId, threadId, setThreadId]);

  // The mobile drawer takes the focus when it opens, and closes on Escape (and on a tap outside it, below).
  const aside = useRef<HTMLElement>(null);
  useEffect(() => {
    if (!sidebarOpen) return;
    aside.current?.querySelector<HTMLElement>("button")?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") setSidebarOpen(false);
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [sidebarOpen]);

  // The model picker: the person's pick for this thread, else the thread's last model, else the default.
  const [picked, setPicked] = useState<{ thread: string | null; model: string } | null>(null);
  const model = picked && picked.thread === openId ? picked.model : (threadModel(state.items, config.models) ?? defaultModel(config.models));

  const openThread = useCallback(
    (id: string | null) => {
      setSidebarOpen(false);
      if (id === threadId && id !== null) return;
      setThreadId(id, "push");
      if (id === null) void open(null);
    },
    [threadId, setThreadId, open],
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
        ref={aside}
        className={`${sidebarOpen ? "fixed inset-y-0 left-0 z-20 flex shadow-xl" : "hidden"} w-72 shrink-0 flex-col border-r border-zinc-200 bg-zinc-50 md:static md:flex md:shadow-none dark:border-zinc-800 dark:bg-zinc-900`}
        data-testid="sidebar"
        data-open={sidebarOpen ? "true" : "false"}
      >
        <ThreadList list={list} currentId={openId} onOpen={openThread} onNew={() => openThread(null)} />
      </aside>
      {sidebarOpen && <div className="fixed inset-0 z-10 bg-black/30 md:hidden" onClick={() => setSidebarOpen(false)} aria-hidden="true" data-testid="sidebar-backdrop" />}
      <main className="flex min-w-0 flex-1 flex-col">
        <ThreadHeader key={openId ?? ""} thread={state.thread} busy={state.streaming} onRename={convo.rename} onDelete={onDelete} onToggleSidebar={() => setSidebarOpen((o) => !o)} />
        <ThreadView
          state={state}
          theme={theme}
          readOnly={readOnly}
          greeting={config.greeting}
          prompts={config.startPrompts}
          actions={{ retry: convo.retry, feedback: convo.sendFeedback, action: convo.action }}
          onLoadEarlier={() => void convo.loadEarlier()}
          onPrompt={(p) => void convo.send(p, model)}
          onRetry={() => convo.retry()}
          onDismissError={convo.dismissError}
        />
        <ThreadStatusBanner thread={state.thread} />
        <Composer
          streaming={state.streaming}
          disabled={state.loading || readOnly}
          disabledReason={composerReason(state.thread)}
          describedBy={readOnly ? STATUS_BANNER_ID : undefined}
          allowCancel={state.allowCancel}
          models={config.models}
          model={model}
          onModelChange={(m) => setPicked({ thread: openId, model: m })}
          onSend={(text, attachmentIds) => convo.send(text, model, attachmentIds)}
          onStop={convo.stop}
          focusKey={openId}
        />
      </main>
    </div>
  );
}
