// The conversation state and the pure function that folds protocol events
// into it. Components render this state; they never interpret events.
import { ChatKitError, describeErrorCode } from "./errors";
import type {
  AssistantMessageContent,
  ClientToolCallItem,
  FeedbackKind,
  Page,
  Thread,
  ThreadItem,
  ThreadItemUpdate,
  ThreadMetadata,
  ThreadStreamEvent,
} from "./types";
import { updateComponent } from "./widgetTree";

export interface ShownError {
  code: string;
  message: string;
  allowRetry: boolean;
}

export interface Notice {
  level: "info" | "warning" | "danger";
  message: string;
  title: string | null;
}

export interface ClientEffect {
  name: string;
  data: Record<string, unknown>;
}

export interface ConversationState {
  thread: ThreadMetadata | null;
  /** Oldest first. */
  items: ThreadItem[];
  /** Cursor for "load earlier" (items.list desc pages back in time). */
  earlierCursor: string | null;
  hasEarlier: boolean;
  loading: boolean;
  streaming: boolean;
  allowCancel: boolean;
  progress: { icon: string | null; text: string } | null;
  error: ShownError | null;
  notices: Notice[];
  /** Client effects received and not yet run. */
  effects: ClientEffect[];
  /** A client tool the server is waiting on (answered with threads.add_client_tool_output). */
  pendingToolCall: ClientToolCallItem | null;
  /** Feedback given on items, by item id (from the feedback endpoint, then from clicks). */
  feedback: Record<string, FeedbackKind>;
  /** Assistant messages that were stopped before they were finished. */
  cutOff: string[];
  /** Widgets whose action was sent and not answered yet: their controls stay disabled. */
  actedWidgets: string[];
}

export const initialConversation: ConversationState = {
  thread: null,
  items: [],
  earlierCursor: null,
  hasEarlier: false,
  loading: false,
  streaming: false,
  allowCancel: true,
  progress: null,
  error: null,
  notices: [],
  effects: [],
  pendingToolCall: null,
  feedback: {},
  cutOff: [],
  actedWidgets: [],
};

export type ConversationAction =
  | { type: "reset" }
  | { type: "load.start" }
  | { type: "load.done"; thread: ThreadMetadata; page: Page<ThreadItem>; itemState?: ItemState }
  | { type: "earlier.done"; page: Page<ThreadItem> }
  /** `truncateAfter`: retry drops everything after that user message, as the server does. */
  | { type: "stream.start"; truncateAfter?: string }
  | { type: "stream.end"; aborted?: boolean }
  | { type: "event"; event: ThreadStreamEvent }
  | { type: "failure"; error: ChatKitError | ShownError }
  | { type: "error.dismiss" }
  | { type: "effects.consumed" }
  | { type: "toolcall.consumed" }
  | { type: "thread.renamed"; thread: ThreadMetadata }
  | { type: "feedback.given"; itemId: string; kind: FeedbackKind }
  | { type: "widget.acted"; itemId: string }
  /** Show a conversation rebuilt elsewhere (a stream that ran in the background: replayStream). */
  | { type: "restore"; state: ConversationState };

const HIDDEN_TYPES = new Set(["hidden_context_item", "sdk_hidden_context"]);

/** What the protocol's items don't carry, from our item-state endpoint: feedback, stopped answers. */
export interface ItemState {
  feedback: Record<string, FeedbackKind>;
  stopped: string[];
}

/** The item ids a stream event touches (a widget's answer re-enables it). */
function touchedItem(event: ThreadStreamEvent): string | null {
  switch (event.type) {
    case "thread.item.added":
    case "thread.item.done":
    case "thread.item.replaced":
      return event.item.id;
    case "thread.item.updated":
    case "thread.item.removed":
      return event.item_id;
    default:
      return null;
  }
}

function metadataOf(thread: Thread): ThreadMetadata {
  // The server may send a Thread carrying items; keep only the metadata.
  const { items: _items, ...meta } = thread;
  return meta;
}

function upsertItem(items: ThreadItem[], item: ThreadItem): ThreadItem[] {
  if (HIDDEN_TYPES.has(item.type)) return items;
  const i = items.findIndex((x) => x.id === item.id);
  if (i === -1) return [...items, item];
  const next = items.slice();
  next[i] = item;
  return next;
}

function setAt<T>(list: T[], index: number, value: T): T[] {
  const next = list.slice();
  next[index] = value;
  return next;
}

/** Applies one thread.item.updated payload to its item. Unknown combinations leave the item as is. */
export function applyItemUpdate(item: ThreadItem, update: ThreadItemUpdate): ThreadItem {
  switch (update.type) {
    case "assistant_message.content_part.added":
    case "assistant_message.content_part.done":
      if (item.type !== "assistant_message") return item;
      return { ...item, content: setAt(item.content, update.content_index, update.content) };
    case "assistant_message.content_part.text_delta": {
      if (item.type !== "assistant_message") return item;
      const part: AssistantMessageContent = item.content[update.content_index] ?? {
        type: "output_text",
        text: "",
        annotations: [],
      };
      return { ...item, content: setAt(item.content, update.content_index, { ...part, text: part.text + update.delta }) };
    }
    case "assistant_message.content_part.annotation_added": {
      if (item.type !== "assistant_message") return item;
      const part = item.content[update.content_index];
      if (!part) return item;
      const annotations = setAt(part.annotations ?? [], update.annotation_index, update.annotation);
      return { ...item, content: setAt(item.content, update.content_index, { ...part, annotations }) };
    }
    case "widget.root.updated":
      if (item.type !== "widget") return item;
      return { ...item, widget: update.widget };
    case "widget.component.updated":
      if (item.type !== "widget") return item;
      return { ...item, widget: updateComponent(item.widget, update.component_id, () => update.component) };
    case "widget.streaming_text.value_delta":
      if (item.type !== "widget") return item;
      return {
        ...item,
        // Only Text and Markdown stream their value; other kinds are left as they are.
        widget: updateComponent(item.widget, update.component_id, (c) =>
          c.type === "Text" || c.type === "Markdown" ? { ...c, value: (typeof c.value === "string" ? c.value : "") + update.delta, streaming: !update.done } : c,
        ),
      };
    case "workflow.task.added":
    case "workflow.task.updated":
      if (item.type === "workflow") {
        return { ...item, workflow: { ...item.workflow, tasks: setAt(item.workflow.tasks, update.task_index, update.task) } };
      }
      if (item.type === "task") return { ...item, task: update.task };
      return item;
    case "generated_image.updated":
      if (item.type !== "generated_image") return item;
      return { ...item, image: update.image };
  }
}

/** Folds one stream event into the state. */
export function reduceEvent(state: ConversationState, event: ThreadStreamEvent): ConversationState {
  switch (event.type) {
    case "thread.created":
    case "thread.updated":
      return { ...state, thread: metadataOf(event.thread) };
    case "thread.item.added":
      return { ...state, items: upsertItem(state.items, event.item), progress: null };
    case "thread.item.done":
    case "thread.item.replaced": {
      const item = event.item;
      const pendingToolCall =
        item.type === "client_tool_call" && item.status === "pending" ? item : state.pendingToolCall;
      return { ...state, items: upsertItem(state.items, item), pendingToolCall, progress: null };
    }
    case "thread.item.updated":
      return {
        ...state,
        items: state.items.map((it) => (it.id === event.item_id ? applyItemUpdate(it, event.update) : it)),
      };
    case "thread.item.removed":
      return { ...state, items: state.items.filter((it) => it.id !== event.item_id) };
    case "stream_options":
      return { ...state, allowCancel: event.stream_options.allow_cancel };
    case "progress_update":
      return { ...state, progress: { icon: event.icon ?? null, text: event.text } };
    case "client_effect":
      return { ...state, effects: [...state.effects, { name: event.name, data: event.data ?? {} }] };
    case "error":
      return {
        ...state,
        progress: null,
        error: {
          code: event.code,
          message: event.message || describeErrorCode(event.code),
          allowRetry: event.allow_retry,
        },
      };
    case "notice":
      return {
        ...state,
        notices: [...state.notices, { level: event.level, message: event.message, title: event.title ?? null }],
      };
    default:
      // Newer servers may send event types this client does not know yet.
      return state;
  }
}

export function conversationReducer(state: ConversationState, action: ConversationAction): ConversationState {
  switch (action.type) {
    case "reset":
      return initialConversation;
    case "restore":
      return action.state;
    case "load.start":
      return { ...initialConversation, loading: true };
    case "load.done":
      return {
        ...state,
        loading: false,
        thread: action.thread,
        items: action.page.data.filter((it) => !HIDDEN_TYPES.has(it.type)).reverse(),
        hasEarlier: action.page.has_more,
        earlierCursor: action.page.after,
        feedback: action.itemState?.feedback ?? {},
        cutOff: action.itemState?.stopped ?? [],
      };
    case "earlier.done": {
      const known = new Set(state.items.map((it) => it.id));
      const older = action.page.data.filter((it) => !HIDDEN_TYPES.has(it.type) && !known.has(it.id)).reverse();
      return { ...state, items: [...older, ...state.items], hasEarlier: action.page.has_more, earlierCursor: action.page.after };
    }
    case "stream.start": {
      let items = state.items;
      if (action.truncateAfter) {
        const i = items.findIndex((it) => it.id === action.truncateAfter);
        if (i !== -1) items = items.slice(0, i + 1);
      }
      return { ...state, items, streaming: true, error: null, progress: null, notices: [], pendingToolCall: null, allowCancel: true };
    }
    case "stream.end": {
      // A stop keeps the partial answer (the server saves it too): mark it as cut off.
      const last = state.items[state.items.length - 1];
      const stopped = action.aborted && last?.type === "assistant_message" && !state.cutOff.includes(last.id);
      return { ...state, streaming: false, progress: null, cutOff: stopped ? [...state.cutOff, last.id] : state.cutOff };
    }
    case "event": {
      const next = reduceEvent(state, action.event);
      // An answer to a widget (or a failed action) gives its controls back.
      if (action.event.type === "error") return next.actedWidgets.length ? { ...next, actedWidgets: [] } : next;
      const touched = touchedItem(action.event);
      return touched && next.actedWidgets.includes(touched) ? { ...next, actedWidgets: next.actedWidgets.filter((id) => id !== touched) } : next;
    }
    case "failure": {
      const e = action.error;
      return {
        ...state,
        loading: false,
        streaming: false,
        progress: null,
        actedWidgets: [],
        error: { code: e.code, message: e.message, allowRetry: e.allowRetry },
      };
    }
    case "error.dismiss":
      return { ...state, error: null };
    case "effects.consumed":
      return { ...state, effects: [] };
    case "toolcall.consumed": {
      // The server marks the call completed without re-sending it; mirror that here.
      const id = state.pendingToolCall?.id;
      const items = state.items.map((it) => (it.id === id && it.type === "client_tool_call" ? { ...it, status: "completed" as const } : it));
      return { ...state, items, pendingToolCall: null };
    }
    case "thread.renamed":
      return state.thread?.id === action.thread.id ? { ...state, thread: action.thread } : state;
    case "feedback.given":
      return { ...state, feedback: { ...state.feedback, [action.itemId]: action.kind } };
    case "widget.acted":
      return state.actedWidgets.includes(action.itemId) ? state : { ...state, actedWidgets: [...state.actedWidgets, action.itemId] };
  }
}

/** The user message a retry of `assistantItemId` starts from: the nearest one before it. */
export function userMessageBefore(items: ThreadItem[], itemId: string): string | null {
  const i = items.findIndex((it) => it.id === itemId);
  for (let j = (i === -1 ? items.length : i) - 1; j >= 0; j--) {
    const it = items[j];
    if (it && it.type === "user_message") return it.id;
  }
  return null;
}

/** Text of an assistant or user message, for copying and feedback. */
export function itemText(item: ThreadItem): string {
  if (item.type === "assistant_message") return item.content.map((c) => c.text).join("\n\n");
  if (item.type === "user_message") return item.content.map((c) => c.text).join("");
  return "";
}

/**
 * The conversation as a stream that started on `base` shows it after `events`: what a
 * thread looks like when the person comes back to it while its answer is still being
 * written in the background (useConversation). Client effects among those events ran
 * when they came, so none are left to run; a client tool call waits for the stream's end
 * as it always does.
 */
export function replayStream(base: ConversationState, truncateAfter: string | undefined, events: ThreadStreamEvent[]): ConversationState {
  let state = conversationReducer(base, { type: "stream.start", truncateAfter });
  for (const event of events) state = conversationReducer(state, { type: "event", event });
  return { ...state, loading: false, effects: [] };
}
