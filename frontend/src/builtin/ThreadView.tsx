// The scrolling conversation: earlier-items button, items, live progress,
// errors and notices in place, or the start screen for a new chat.
import { useEffect, useRef } from "react";
import { promptsFor, type StartPrompt } from "../app/config";
import type { Theme } from "../app/store";
import type { ConversationState } from "../protocol/reducer";
import { SparkleIcon } from "./icons";
import { Markdown } from "./Markdown";
import { ThreadItemView, type ItemActions } from "./ThreadItemView";

function StartScreen({ greeting, prompts, onPrompt }: { greeting: string; prompts: StartPrompt[]; onPrompt: (prompt: string) => void }) {
  return (
    <div className="flex flex-1 flex-col items-center justify-center px-6 py-12 text-center" data-testid="start-screen">
      <div className="mb-4 flex size-12 items-center justify-center rounded-2xl bg-indigo-600 text-2xl text-white shadow-sm">
        <SparkleIcon />
      </div>
      <h2 className="text-2xl font-semibold tracking-tight text-zinc-900 dark:text-zinc-50">{greeting}</h2>
      <div className="mt-8 grid w-full max-w-2xl gap-3 sm:grid-cols-3">
        {prompts.map((p) => (
          <button
            key={p.label}
            type="button"
            onClick={() => onPrompt(p.prompt)}
            className="rounded-xl border border-zinc-200 bg-white p-4 text-left text-sm shadow-xs transition hover:border-zinc-300 hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-zinc-800 dark:bg-zinc-900 dark:hover:border-zinc-700 dark:hover:bg-zinc-800"
            data-testid="start-prompt"
          >
            <span className="block font-medium text-zinc-900 dark:text-zinc-100" dir="auto">
              {p.label}
            </span>
            <span className="mt-1 line-clamp-2 block text-zinc-600 dark:text-zinc-400" dir="auto">
              {p.prompt}
            </span>
          </button>
        ))}
      </div>
    </div>
  );
}

export function ThreadView({
  state,
  theme,
  readOnly = false,
  greeting,
  prompts,
  actions,
  onLoadEarlier,
  onPrompt,
  onRetry,
  onDismissError,
}: {
  state: ConversationState;
  theme: Theme;
  /** A locked or closed thread: no retry, no widget actions. */
  readOnly?: boolean;
  greeting: string;
  prompts: StartPrompt[];
  actions: ItemActions;
  onLoadEarlier: () => void;
  onPrompt: (prompt: string) => void;
  onRetry: () => void;
  onDismissError: () => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const lastItem = state.items[state.items.length - 1];

  // Follow the answer as it streams, unless the person scrolled up to read.
  useEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });

  const empty = !state.thread && state.items.length === 0 && !state.loading && !state.streaming && !state.error;

  return (
    <div
      ref={scroller}
      className="flex min-h-0 flex-1 flex-col overflow-y-auto"
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      }}
      data-testid="thread-view"
      data-thread-id={state.thread?.id ?? ""}
    >
      {empty ? (
        <StartScreen greeting={greeting} prompts={promptsFor(prompts, theme)} onPrompt={onPrompt} />
      ) : (
        <div className="mx-auto w-full max-w-3xl flex-1 space-y-6 px-4 py-6" role="log" aria-live="polite" aria-busy={state.streaming}>
          {state.loading && (
            <div className="space-y-3" data-testid="thread-loading" aria-label="Loading chat">
              <div className="ml-auto h-10 w-1/2 animate-pulse rounded-2xl bg-zinc-100 dark:bg-zinc-800" />
              <div className="h-16 w-3/4 animate-pulse rounded-2xl bg-zinc-100 dark:bg-zinc-800" />
            </div>
          )}
          {state.hasEarlier && (
            <div className="flex justify-center">
              <button type="button" onClick={onLoadEarlier} className="btn-ghost-sm" data-testid="load-earlier">
                Load earlier messages
              </button>
            </div>
          )}
          {state.items.map((item) => (
            <ThreadItemView
              key={item.id}
              item={item}
              isLast={item === lastItem}
              streaming={state.streaming}
              theme={theme}
              readOnly={readOnly}
              feedback={state.feedback[item.id] ?? null}
              cutOff={state.cutOff.includes(item.id)}
              acted={state.actedWidgets.includes(item.id)}
              actions={actions}
            />
          ))}
          {state.streaming && state.progress && (
            <div className="flex items-center gap-2 text-sm text-zinc-500 dark:text-zinc-400" role="status" data-testid="progress">
              <span className="size-3 animate-spin rounded-full border-2 border-current border-t-transparent" aria-hidden="true" />
              {state.progress.text}
            </div>
          )}
          {state.streaming && !state.progress && lastItem?.type === "user_message" && (
            <div className="flex gap-1 py-2" role="status" aria-label="Thinking" data-testid="thinking">
              <span className="dot" />
              <span className="dot [animation-delay:150ms]" />
              <span className="dot [animation-delay:300ms]" />
            </div>
          )}
          {state.notices.map((n, i) => (
            <div
              key={i}
              role="status"
              data-testid="notice"
              className={`rounded-lg border px-3 py-2 text-sm ${
                n.level === "danger"
                  ? "border-red-200 bg-red-50 text-red-800 dark:border-red-900 dark:bg-red-950/60 dark:text-red-200"
                  : n.level === "warning"
                    ? "border-amber-200 bg-amber-50 text-amber-900 dark:border-amber-900 dark:bg-amber-950/60 dark:text-amber-200"
                    : "border-sky-200 bg-sky-50 text-sky-900 dark:border-sky-900 dark:bg-sky-950/60 dark:text-sky-200"
              }`}
            >
              {n.title && (
                <strong className="block" dir="auto">
                  {n.title}
                </strong>
              )}
              <Markdown text={n.message} />
            </div>
          ))}
          {state.error && (
            <div role="alert" data-testid="error" data-code={state.error.code} className="flex items-start gap-3 rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950/60 dark:text-red-200">
              <span className="flex-1" dir="auto">
                {state.error.message}
              </span>
              {state.error.allowRetry && state.thread && !readOnly && (
                <button type="button" className="font-medium underline underline-offset-2" onClick={onRetry} data-testid="error-retry">
                  Retry
                </button>
              )}
              <button type="button" className="font-medium underline underline-offset-2" onClick={onDismissError} aria-label="Dismiss error">
                Dismiss
              </button>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
