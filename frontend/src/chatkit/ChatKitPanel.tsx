// The official UI: OpenAI's <openai-chatkit> web component through
// @openai/chatkit-react, pointed at our Django endpoint.
import { ChatKit, useChatKit } from "@openai/chatkit-react";
import { useMemo, useState } from "react";
import type { PageConfig } from "../app/config";
import { makeCsrfFetch } from "../app/csrf";
import { runClientEffect, runClientTool } from "../app/clientTools";
import { GREETING, START_PROMPTS } from "../app/prompts";
import { useThemeStore, useThreadStore } from "../app/store";
import { ThemeToggle } from "../builtin/ThemeToggle";

export function ChatKitPanel({ config }: { config: PageConfig }) {
  const theme = useThemeStore((s) => s.theme);
  // Read once: ChatKit owns the thread after mounting and reports changes back.
  const [initialThread] = useState(() => useThreadStore.getState().threadId);
  const [error, setError] = useState<string | null>(null);
  const csrfFetch = useMemo(() => makeCsrfFetch(), []);

  const { control } = useChatKit({
    api: { url: config.apiUrl, domainKey: config.domainKey, fetch: csrfFetch },
    theme: { colorScheme: theme, radius: "round" },
    initialThread,
    history: { enabled: true, showRename: true, showDelete: true },
    startScreen: { greeting: GREETING, prompts: START_PROMPTS },
    threadItemActions: { feedback: true, retry: true },
    composer: { placeholder: "Message the assistant" },
    onClientTool: ({ name, params }) => runClientTool(name, params),
    onEffect: ({ name, data }) => runClientEffect(name, data ?? {}),
    onThreadChange: ({ threadId }) => useThreadStore.getState().setThreadId(threadId, "replace"),
    onError: ({ error: err }) => setError(err.message || "Something went wrong."),
  });

  return (
    <div className="relative flex h-full flex-col bg-white dark:bg-zinc-950">
      <div className="absolute right-3 top-3 z-10">
        <ThemeToggle />
      </div>
      {error && (
        <div role="alert" data-testid="chatkit-error" className="mx-4 mt-3 flex items-start gap-3 rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200">
          <span className="flex-1">{error}</span>
          <button type="button" className="font-medium underline" onClick={() => setError(null)} aria-label="Dismiss error">
            Dismiss
          </button>
        </div>
      )}
      <ChatKit control={control} className="min-h-0 w-full flex-1" data-testid="chatkit" />
    </div>
  );
}
