// App-wide state: the colour theme (kept in localStorage across reloads) and
// the open thread (kept in the URL as ?thread=… so a reload or a shared link
// reopens it).
import { create } from "zustand";
import { persist } from "zustand/middleware";

export type Theme = "light" | "dark";

export const THEME_STORAGE_KEY = "chat-theme";

function systemTheme(): Theme {
  return typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

interface ThemeState {
  theme: Theme;
  setTheme: (theme: Theme) => void;
  toggleTheme: () => void;
}

export const useThemeStore = create<ThemeState>()(
  persist(
    (set, get) => ({
      theme: systemTheme(),
      setTheme: (theme) => set({ theme }),
      toggleTheme: () => set({ theme: get().theme === "dark" ? "light" : "dark" }),
    }),
    { name: THEME_STORAGE_KEY, partialize: (s) => ({ theme: s.theme }) },
  ),
);

/** What a ?thread= link to an unknown or someone else's thread shows (never the raw id). */
export const MISSING_THREAD_MESSAGE = "This chat doesn't exist or isn't yours.";

export function threadFromUrl(search: string = window.location.search): string | null {
  return new URLSearchParams(search).get("thread") || null;
}

function writeThreadToUrl(threadId: string | null, mode: "push" | "replace") {
  const url = new URL(window.location.href);
  if (threadId) url.searchParams.set("thread", threadId);
  else url.searchParams.delete("thread");
  if (url.href === window.location.href) return;
  if (mode === "push") window.history.pushState({ thread: threadId }, "", url);
  else window.history.replaceState({ thread: threadId }, "", url);
}

interface ThreadState {
  threadId: string | null;
  /** Open a thread (null: a new one) and record it in the URL. */
  setThreadId: (threadId: string | null, mode?: "push" | "replace") => void;
}

export const useThreadStore = create<ThreadState>()((set) => ({
  threadId: typeof window === "undefined" ? null : threadFromUrl(),
  setThreadId: (threadId, mode = "push") => {
    writeThreadToUrl(threadId, mode);
    set({ threadId });
  },
}));

if (typeof window !== "undefined") {
  // Back and forward move between threads too.
  window.addEventListener("popstate", () => useThreadStore.setState({ threadId: threadFromUrl() }));
}
