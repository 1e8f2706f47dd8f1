// The official UI: OpenAI's <openai-chatkit> web component through
// @openai/chatkit-react, pointed at our Django endpoint.
import { ChatKit, useChatKit } from "@openai/chatkit-react";
import { useEffect, useMemo, useRef, useState } from "react";
import type { PageConfig } from "../app/config";
import { makeCsrfFetch } from "../app/csrf";
import { runClientEffect, runClientTool } from "../app/clientTools";
import { GREETING, START_PROMPTS } from "../app/prompts";
import { useThemeStore, useThreadStore } from "../app/store";
import { CHATKIT_ELEMENT, waitForElement } from "../app/uiChoice";

export function ChatKitPanel({ config }: { config: PageConfig }) {
  const theme = useThemeStore((s) => s.theme);
  const toggleTheme = useThemeStore((s) => s.toggleTheme);
  // Read once: ChatKit owns the thread after mounting and reports changes back.
  const [initialThread] = useState(() => useThreadStore.getState().threadId);
  const [error, setError] = useState<string | null>(null);
  // The thread ChatKit itself last showed, so we only steer it on real URL changes.
  const shownThread = useRef<string | null>(initialThread);
  const csrfFetch = useMemo(() => makeCsrfFetch(), []);

  const chatkit = useChatKit({
    api: { url: config.apiUrl, domainKey: config.domainKey, fetch: csrfFetch },
    theme: { colorScheme: theme, radius: "round" },
    // The theme toggle lives in ChatKit's own header (the frame owns that space).
    header: { rightAction: { icon: theme === "dark" ? "light-mode" : "dark-mode", onClick: toggleTheme } },
    initialThread,
    history: { enabled: true, showRename: true, showDelete: true },
    startScreen: { greeting: GREETING, prompts: START_PROMPTS },
    threadItemActions: { feedback: true, retry: true },
    composer: { placeholder: "Message the assistant" },
    onClientTool: ({ name, params }) => runClientTool(name, params),
    onEffect: ({ name, data }) => runClientEffect(name, data ?? {}),
    // Widget actions with handler "client" (the built-in client does the same in useConversation).
    widgets: { onAction: async (action) => runClientEffect(action.type, action.payload ?? {}) },
    onThreadChange: ({ threadId }) => {
      shownThread.current = threadId;
      useThreadStore.getState().setThreadId(threadId, "replace");
    },
    onError: ({ error: err }) => setError(err.message || "Something went wrong."),
  });

  // Forced "chatkit" mode has no fallback: say so when the script never arrives.
  useEffect(() => {
    let active = true;
    void waitForElement(CHATKIT_ELEMENT, config.loadTimeoutMs).then((ok) => {
      if (active && !ok) {
        setError("The ChatKit script could not be loaded from OpenAI's CDN. Check the internet connection, or set CHATKIT_UI=auto to fall back to the built-in client.");
      }
    });
    return () => {
      active = false;
    };
  }, [config.loadTimeoutMs]);

  // Back/forward changes ?thread=: follow it.
  const urlThread = useThreadStore((s) => s.threadId);
  const { setThreadId } = chatkit;
  useEffect(() => {
    if (urlThread === shownThread.current || !customElements.get(CHATKIT_ELEMENT)) return;
    shownThread.current = urlThread;
    void setThreadId(urlThread);
  }, [urlThread, setThreadId]);

  return (
    <div className="flex h-full flex-col bg-white dark:bg-zinc-950">
      {error && (
        <div role="alert" data-testid="chatkit-error" className="mx-4 mt-3 flex items-start gap-3 rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200">
          <span className="flex-1">{error}</span>
          <button type="button" className="font-medium underline" onClick={() => setError(null)} aria-label="Dismiss error">
            Dismiss
          </button>
        </div>
      )}
      <ChatKit control={chatkit.control} className="min-h-0 w-full flex-1" data-testid="chatkit" />
    </div>
  );
}
