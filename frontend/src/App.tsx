import { lazy, Suspense, useEffect, useState } from "react";
import { ChatKitPanel } from "./chatkit/ChatKitPanel";
import type { PageConfig } from "./app/config";
import { MISSING_THREAD_MESSAGE, useThemeStore } from "./app/store";
import { chooseUi, type ChosenUi } from "./app/uiChoice";

// Loaded only when used: the official UI then skips the Markdown and widget code.
const BuiltinChat = lazy(() => import("./builtin/BuiltinChat").then((m) => ({ default: m.BuiltinChat })));

function Loading() {
  return (
    <div className="flex h-full items-center justify-center text-sm text-zinc-600 dark:text-zinc-400" data-testid="ui-loading" role="status">
      <span className="mr-3 size-4 animate-spin rounded-full border-2 border-current border-t-transparent" aria-hidden="true" />
      Loading chat…
    </div>
  );
}

/** Shown at once when the page's ?thread= link is unknown or someone else's (the server checked it). */
function LinkNotice({ onDismiss }: { onDismiss: () => void }) {
  return (
    <div role="alert" data-testid="link-notice" className="flex shrink-0 items-center gap-3 border-b border-amber-300 bg-amber-50 px-4 py-2 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
      <span className="flex-1">{MISSING_THREAD_MESSAGE} A new chat is open instead.</span>
      <button type="button" className="font-medium underline underline-offset-2" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

/** Keeps <html class="dark"> in step with the theme store (Tailwind's dark variant reads it). */
function useDocumentTheme() {
  const theme = useThemeStore((s) => s.theme);
  useEffect(() => {
    document.documentElement.classList.toggle("dark", theme === "dark");
    document.documentElement.style.colorScheme = theme;
  }, [theme]);
}

export function App({ config }: { config: PageConfig }) {
  useDocumentTheme();
  const [ui, setUi] = useState<ChosenUi | null>(config.ui === "builtin" ? "builtin" : null);
  const [linkNotice, setLinkNotice] = useState(config.missingThread);

  useEffect(() => {
    let active = true;
    void chooseUi(config.ui, config.cdnUrl, config.loadTimeoutMs).then((chosen) => {
      if (active) setUi(chosen);
    });
    return () => {
      active = false;
    };
  }, [config]);

  return (
    <div className="flex h-dvh flex-col" data-testid="app" data-ui={ui ?? ""}>
      {linkNotice && <LinkNotice onDismiss={() => setLinkNotice(false)} />}
      <div className="min-h-0 flex-1">
        {ui === null ? (
          <Loading />
        ) : ui === "chatkit" ? (
          <ChatKitPanel config={config} />
        ) : (
          <Suspense fallback={<Loading />}>
            <BuiltinChat config={config} />
          </Suspense>
        )}
      </div>
    </div>
  );
}
