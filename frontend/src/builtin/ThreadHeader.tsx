// The bar above a conversation: its title, rename and delete, the theme toggle.
import { useEffect, useRef, useState } from "react";
import type { ThreadMetadata } from "../protocol/types";
import { MenuIcon, PencilIcon, TrashIcon } from "./icons";
import { ThemeToggle } from "./ThemeToggle";
import { threadTitle } from "./threadTitle";

export function ThreadHeader({
  thread,
  busy,
  onRename,
  onDelete,
  onToggleSidebar,
}: {
  thread: ThreadMetadata | null;
  busy: boolean;
  onRename: (title: string) => Promise<void>;
  onDelete: () => Promise<void>;
  onToggleSidebar: () => void;
}) {
  const [mode, setMode] = useState<"view" | "rename" | "confirm-delete">("view");
  const [draft, setDraft] = useState("");
  const input = useRef<HTMLInputElement>(null);

  // The parent keys this header by thread id, so a new thread starts in "view" mode.
  useEffect(() => {
    if (mode === "rename") input.current?.select();
  }, [mode]);

  const save = async () => {
    const title = draft.trim();
    if (title && thread && title !== thread.title) await onRename(title);
    setMode("view");
  };

  return (
    <header className="flex h-14 shrink-0 items-center gap-2 border-b border-zinc-200 px-3 dark:border-zinc-800">
      <button type="button" className="icon-btn md:hidden" onClick={onToggleSidebar} aria-label="Show chats">
        <MenuIcon />
      </button>
      <div className="min-w-0 flex-1">
        {mode === "rename" && thread ? (
          <form
            className="flex items-center gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              void save();
            }}
          >
            <label htmlFor="rename-input" className="sr-only">
              Chat title
            </label>
            <input
              id="rename-input"
              dir="auto"
              ref={input}
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={(e) => e.key === "Escape" && setMode("view")}
              maxLength={200}
              data-testid="rename-input"
              className="w-full max-w-md rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm outline-none focus:ring-2 focus:ring-indigo-500/40 dark:border-zinc-700 dark:bg-zinc-900"
            />
            <button type="submit" className="btn-primary-sm" data-testid="rename-save">
              Save
            </button>
            <button type="button" className="btn-ghost-sm" onClick={() => setMode("view")}>
              Cancel
            </button>
          </form>
        ) : (
          <h1 className="truncate text-sm font-semibold text-zinc-900 dark:text-zinc-100" data-testid="thread-title" dir="auto">
            {thread ? threadTitle(thread) : "New chat"}
          </h1>
        )}
      </div>
      {thread && mode === "confirm-delete" && (
        <div className="flex items-center gap-2 text-sm" role="group" aria-label="Confirm delete">
          <span className="text-zinc-700 dark:text-zinc-300">Delete this chat?</span>
          <button type="button" className="btn-danger-sm" onClick={() => void onDelete()} data-testid="delete-confirm">
            Delete
          </button>
          <button type="button" className="btn-ghost-sm" onClick={() => setMode("view")}>
            Cancel
          </button>
        </div>
      )}
      {thread && mode === "view" && (
        <>
          <button
            type="button"
            className="icon-btn"
            onClick={() => {
              setDraft(thread.title ?? "");
              setMode("rename");
            }}
            disabled={busy}
            aria-label="Rename chat"
            title="Rename"
            data-testid="rename-thread"
          >
            <PencilIcon />
          </button>
          <button type="button" className="icon-btn" onClick={() => setMode("confirm-delete")} disabled={busy} aria-label="Delete chat" title="Delete" data-testid="delete-thread">
            <TrashIcon />
          </button>
        </>
      )}
      <ThemeToggle />
    </header>
  );
}
