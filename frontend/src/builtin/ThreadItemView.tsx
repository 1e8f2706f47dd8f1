// One item of a conversation: messages, widgets, workflows and tool calls.
import { useState } from "react";
import type { Theme } from "../app/store";
import { itemText } from "../protocol/reducer";
import type { ActionConfig, FeedbackKind, Task, ThreadItem } from "../protocol/types";
import { MessageAttachments } from "./attachments/MessageAttachments";
import { CopyIcon, RetryIcon, ThumbDownIcon, ThumbUpIcon } from "./icons";
import { Markdown } from "./Markdown";
import { WidgetRenderer } from "./widgets/WidgetRenderer";

export interface ItemActions {
  retry: (itemId: string) => void;
  feedback: (itemId: string, kind: FeedbackKind) => Promise<boolean>;
  action: (itemId: string | null, action: ActionConfig) => void;
}

function AssistantActions({
  item,
  actions,
  canAct,
  given,
  canRetry,
}: {
  item: ThreadItem;
  actions: ItemActions;
  canAct: boolean;
  /** Feedback already given (kept by the server, shown after a reload). */
  given: FeedbackKind | null;
  /** Retry is hidden in a locked or closed thread: it would delete the answer first. */
  canRetry: boolean;
}) {
  const [copied, setCopied] = useState(false);
  const give = (kind: FeedbackKind) => void actions.feedback(item.id, kind);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(itemText(item));
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // Clipboard refused (insecure origin): nothing to tell beyond not confirming.
    }
  };
  return (
    <div className="mt-1 flex items-center gap-0.5 text-zinc-500 dark:text-zinc-400" data-testid="item-actions">
      <button type="button" className="icon-btn-sm" onClick={copy} aria-label={copied ? "Copied" : "Copy answer"} title={copied ? "Copied" : "Copy"}>
        <CopyIcon />
      </button>
      <button type="button" className={`icon-btn-sm ${given === "positive" ? "text-emerald-600 dark:text-emerald-400" : ""}`} onClick={() => give("positive")} aria-label="Good answer" aria-pressed={given === "positive"} title="Good answer" data-testid="feedback-positive" disabled={!canAct}>
        <ThumbUpIcon filled={given === "positive"} />
      </button>
      <button type="button" className={`icon-btn-sm ${given === "negative" ? "text-rose-600 dark:text-rose-400" : ""}`} onClick={() => give("negative")} aria-label="Bad answer" aria-pressed={given === "negative"} title="Bad answer" data-testid="feedback-negative" disabled={!canAct}>
        <ThumbDownIcon filled={given === "negative"} />
      </button>
      {canRetry && (
        <button type="button" className="icon-btn-sm" onClick={() => actions.retry(item.id)} aria-label="Retry this answer" title="Retry" data-testid="retry-button" disabled={!canAct}>
          <RetryIcon />
        </button>
      )}
    </div>
  );
}

function TaskLine({ task }: { task: Task }) {
  const loading = task.status_indicator === "loading";
  return (
    <li className="flex items-start gap-2">
      <span className={`mt-1.5 size-2 shrink-0 rounded-full ${loading ? "animate-pulse bg-indigo-500" : "bg-zinc-400 dark:bg-zinc-600"}`} aria-hidden="true" />
      <span>
        {task.title && (
          <span className="font-medium text-zinc-800 dark:text-zinc-200" dir="auto">
            {task.title}
          </span>
        )}
        {"content" in task && task.content && (
          <span className="block text-zinc-600 dark:text-zinc-400" dir="auto">
            {task.content}
          </span>
        )}
      </span>
    </li>
  );
}

export function ThreadItemView({
  item,
  isLast,
  streaming,
  theme,
  readOnly = false,
  feedback = null,
  cutOff = false,
  acted = false,
  actions,
}: {
  item: ThreadItem;
  isLast: boolean;
  streaming: boolean;
  theme: Theme;
  /** A locked or closed thread: no retry, no widget actions. */
  readOnly?: boolean;
  feedback?: FeedbackKind | null;
  /** The answer was stopped before it was finished. */
  cutOff?: boolean;
  /** The widget's action was sent: its controls wait for the answer. */
  acted?: boolean;
  actions: ItemActions;
}) {
  switch (item.type) {
    case "user_message":
      return (
        <div className="flex flex-col items-end gap-2" data-testid="message-user" data-item-id={item.id}>
          <MessageAttachments attachments={item.attachments} />
          {itemText(item) && (
            <div dir="auto" className="max-w-[85%] whitespace-pre-wrap rounded-2xl rounded-br-md bg-zinc-100 px-4 py-2.5 text-[15px] leading-6 text-zinc-900 dark:bg-zinc-800 dark:text-zinc-100">
              {itemText(item)}
            </div>
          )}
        </div>
      );
    case "assistant_message": {
      const live = streaming && isLast;
      const text = itemText(item);
      return (
        <div className="group" data-testid="message-assistant" data-item-id={item.id} data-streaming={live ? "true" : "false"} data-cut-off={cutOff ? "true" : "false"} aria-busy={live}>
          <div className="text-[15px] leading-7 text-zinc-900 dark:text-zinc-100">
            <Markdown text={text} className={live ? "md-streaming" : ""} />
          </div>
          {cutOff && !live && (
            <p className="mt-1 inline-flex items-center gap-1.5 rounded-md bg-zinc-100 px-2 py-0.5 text-xs font-medium text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300" data-testid="cut-off">
              <span aria-hidden="true">⏹</span> Stopped: this answer was cut off
            </p>
          )}
          {!live && <AssistantActions item={item} actions={actions} canAct={!streaming} given={feedback} canRetry={!readOnly} />}
        </div>
      );
    }
    case "widget":
      return (
        <div data-testid="message-widget" data-item-id={item.id}>
          <WidgetRenderer widget={item.widget} theme={theme} disabled={streaming || readOnly || acted} onAction={(action, values) => actions.action(item.id, values ? { ...action, payload: { ...((action.payload as object) ?? {}), ...values } } : action)} />
        </div>
      );
    case "workflow":
      return (
        <details className="rounded-xl border border-zinc-200 px-4 py-2 text-sm dark:border-zinc-800" open={item.workflow.expanded || (streaming && isLast)} data-testid="message-workflow">
          <summary className="cursor-pointer select-none font-medium text-zinc-700 dark:text-zinc-300">
            {item.workflow.summary?.title ?? (item.workflow.type === "reasoning" ? "Thinking" : "Working")}
            {typeof item.workflow.summary?.duration === "number" ? ` · ${item.workflow.summary.duration}s` : ""}
          </summary>
          <ul className="mt-2 space-y-1.5 pb-1">
            {item.workflow.tasks.map((t, i) => (
              <TaskLine key={i} task={t} />
            ))}
          </ul>
        </details>
      );
    case "task":
      return (
        <ul className="text-sm" data-testid="message-task">
          <TaskLine task={item.task} />
        </ul>
      );
    case "client_tool_call":
      return (
        <div className="text-xs text-zinc-500 dark:text-zinc-400" data-testid="message-tool-call">
          {item.status === "pending" ? "Running" : "Ran"} <code className="rounded bg-zinc-100 px-1 py-0.5 dark:bg-zinc-800">{item.name}</code>
        </div>
      );
    case "generated_image":
      return item.image ? <img src={item.image.url} alt="Generated" className="max-w-sm rounded-xl" /> : <div className="h-48 w-48 animate-pulse rounded-xl bg-zinc-200 dark:bg-zinc-800" />;
    default:
      return null;
  }
}
