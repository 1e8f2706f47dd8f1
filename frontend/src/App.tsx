import { lazy, Suspense, useEffect, useState } from "react";
import { ChatKitPanel } from "./chatkit/ChatKitPanel";
import type { PageConfig } from "./app/config";
import { useThemeStore } from "./app/store";
import { chooseUi, type ChosenUi } from "./app/uiChoice";

// Loaded only when used: the official UI then skips the Markdown and widget code.
const BuiltinChat = lazy(() => import("./builtin/BuiltinChat").then((m) => ({ default: m.BuiltinChat })));

function Loading() {
  return (
    <div className="flex h-dvh items-center justify-center text-sm text-zinc-500 dark:text-zinc-400" data-testid="ui-loading" role="status">
      <span className="mr-3 size-4 animate-spin rounded-full border-2 border-current border-t-transparent" aria-hidden="true" />
      Loading chat…
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

  useEffect(() => {
    let active = true;
    void chooseUi(config.ui, config.cdnUrl, config.loadTimeoutMs).then((chosen) => {
      if (active) setUi(chosen);
    });
    return () => {
      active = false;
    };
  }, [config]);

  if (ui === null) return <Loading />;
  return (
    <div className="h-dvh" data-testid="app" data-ui={ui}>
      {ui === "chatkit" ? (
        <ChatKitPanel config={config} />
      ) : (
        <Suspense fallback={<Loading />}>
          <BuiltinChat config={config} />
        </Suspense>
      )}
    </div>
  );
}
