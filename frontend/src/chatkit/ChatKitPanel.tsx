// The official UI: OpenAI's <openai-chatkit> web component through
// @openai/chatkit-react, pointed at our Django endpoint.
import type { ChatKitIcon, ModelOption } from "@openai/chatkit";
import { ChatKit, useChatKit } from "@openai/chatkit-react";
import { useEffect, useMemo, useRef, useState } from "react";
import { attachmentsEnabled } from "../app/attachmentOptions";
import { promptsFor, type PageConfig } from "../app/config";
import { makeCsrfFetch } from "../app/csrf";
import { runClientEffect, runClientTool } from "../app/clientTools";
import { useThemeStore, useThreadStore } from "../app/store";
import { CHATKIT_ELEMENT, waitForElement } from "../app/uiChoice";
import { errorFromResponse } from "../protocol/errors";

export function ChatKitPanel({ config }: { config: PageConfig }) {
  const theme = useThemeStore((s) => s.theme);
  const toggleTheme = useThemeStore((s) => s.toggleTheme);
  // Read once: ChatKit owns the thread after mounting and reports changes back.
  const [initialThread] = useState(() => useThreadStore.getState().threadId);
  const [error, setError] = useState<string | null>(null);
  // The thread ChatKit itself last showed, so we only steer it on real URL changes.
  const shownThread = useRef<string | null>(initialThread);
  // A refused request (rate limit, size) shows the server's own words, which say when to try again.
  const csrfFetch = useMemo(() => makeCsrfFetch(async (input, init) => {
    const res = await window.fetch(input, init);
    if (res.status === 429 || res.status === 413) void errorFromResponse(res.clone()).then((e) => setError(e.message));
    return res;
  }), []);
  const prompts = useMemo(
    () => promptsFor(config.startPrompts, theme).map((p) => ({ label: p.label, prompt: p.prompt, ...(p.icon ? { icon: p.icon as ChatKitIcon } : {}) })),
    [config.startPrompts, theme],
  );
  // The same list as the built-in picker; ChatKit sends the pick as inference_options.model.
  const models: ModelOption[] | undefined = config.models.length > 1 ? config.models.map((m) => ({ id: m.id, label: m.label, default: m.default })) : undefined;

  const chatkit = useChatKit({
    api: {
      url: config.apiUrl,
      domainKey: config.domainKey,
      fetch: csrfFetch,
      uploadStrategy:
        config.attachments.strategy === "direct" ? { type: "direct", uploadUrl: config.attachments.uploadUrl } : { type: "two_phase" },
    },
    theme: { colorScheme: theme, radius: "round" },
    // The theme toggle lives in ChatKit's own header (the frame owns that space).
    header: { rightAction: { icon: theme === "dark" ? "light-mode" : "dark-mode", onClick: toggleTheme } },
    initialThread,
    history: { enabled: true, showRename: true, showDelete: true },
    startScreen: { greeting: config.greeting, prompts },
    threadItemActions: { feedback: true, retry: true },
    composer: {
      placeholder: "Message the assistant",
      ...(models ? { models } : {}),
      // Limits from the server's settings; the server checks them again, typing files from their bytes.
      attachments: {
        enabled: attachmentsEnabled(config.attachments),
        maxSize: config.attachments.maxBytes,
        maxCount: config.attachments.maxCount,
        accept: config.attachments.accept,
      },
    },
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
