// TypeScript mirror of the ChatKit protocol (openai-chatkit 1.6.5,
// chatkit/types.py). Only the fields the client reads are typed strictly;
// everything else passes through untouched. Widgets are @openai/chatkit's own
// types; the rest is checked against the Python SDK's pydantic JSON Schema by
// tests/test_protocol_types.py (scripts/protocol-shapes.mjs reads this file).
import type { Widgets } from "@openai/chatkit";

export interface Page<T> {
  data: T[];
  has_more: boolean;
  after: string | null;
}

export type ThreadStatus =
  | { type: "active" }
  | { type: "locked"; reason?: string | null }
  | { type: "closed"; reason?: string | null };

export interface ThreadMetadata {
  id: string;
  title?: string | null;
  created_at: string;
  status?: ThreadStatus;
  metadata?: Record<string, unknown>;
}

export interface Thread extends ThreadMetadata {
  items?: Page<ThreadItem>;
}

export interface UserMessageTextContent {
  type: "input_text";
  text: string;
}
export interface UserMessageTagContent {
  type: "input_tag";
  id: string;
  text: string;
  data: Record<string, unknown>;
}
export type UserMessageContent = UserMessageTextContent | UserMessageTagContent;

export interface InferenceOptions {
  tool_choice?: { id: string } | null;
  model?: string | null;
}

export interface UserMessageInput {
  content: UserMessageContent[];
  attachments: string[];
  quoted_text?: string | null;
  inference_options: InferenceOptions;
}

interface SourceBase {
  title: string;
  description?: string | null;
}
export interface URLSource extends SourceBase {
  type: "url";
  url: string;
}
export interface FileSource extends SourceBase {
  type: "file";
  filename: string;
}
export interface EntitySource extends SourceBase {
  type: "entity";
  id: string;
  label?: string | null;
}
export type Source = URLSource | FileSource | EntitySource;

export interface Annotation {
  type: "annotation";
  source: Source;
  index?: number | null;
}

export interface AssistantMessageContent {
  type: "output_text";
  text: string;
  annotations: Annotation[];
}

interface ItemBase {
  id: string;
  thread_id: string;
  created_at: string;
}

export interface UserMessageItem extends ItemBase {
  type: "user_message";
  content: UserMessageContent[];
  attachments?: unknown[];
  quoted_text?: string | null;
  inference_options?: InferenceOptions;
}
export interface AssistantMessageItem extends ItemBase {
  type: "assistant_message";
  content: AssistantMessageContent[];
}
export interface ClientToolCallItem extends ItemBase {
  type: "client_tool_call";
  status: "pending" | "completed";
  call_id: string;
  name: string;
  arguments: Record<string, unknown>;
  output?: unknown;
}
export interface WidgetItem extends ItemBase {
  type: "widget";
  widget: WidgetRoot;
  copy_text?: string | null;
}
interface TaskBase {
  title?: string | null;
  status_indicator?: "none" | "loading" | "complete";
}
export interface CustomTask extends TaskBase {
  type: "custom";
  content?: string | null;
}
export interface ThoughtTask extends TaskBase {
  type: "thought";
  content: string;
}
export interface SearchTask extends TaskBase {
  type: "web_search";
  queries?: string[];
  sources?: URLSource[];
}
export interface FileTask extends TaskBase {
  type: "file";
  sources?: FileSource[];
}
export interface ImageTask extends TaskBase {
  type: "image";
}
export type Task = CustomTask | ThoughtTask | SearchTask | FileTask | ImageTask;
export interface Workflow {
  type: "custom" | "reasoning";
  tasks: Task[];
  summary?: { title?: string; duration?: number } | null;
  expanded?: boolean;
}
export interface WorkflowItem extends ItemBase {
  type: "workflow";
  workflow: Workflow;
}
export interface TaskItem extends ItemBase {
  type: "task";
  task: Task;
}
export interface GeneratedImage {
  id: string;
  url: string;
}
export interface GeneratedImageItem extends ItemBase {
  type: "generated_image";
  image: GeneratedImage | null;
}
export interface EndOfTurnItem extends ItemBase {
  type: "end_of_turn";
}
/** Item kinds this client does not draw. */
export interface StructuredInputItem extends ItemBase {
  type: "structured_input";
  status?: "pending" | "answered" | "skipped";
  inputs: unknown[];
}
/** Kept by the server for the model; items.list and streams leave them out. */
export interface HiddenContextItem extends ItemBase {
  type: "hidden_context_item" | "sdk_hidden_context";
  content: unknown;
}

export type ThreadItem =
  | UserMessageItem
  | AssistantMessageItem
  | ClientToolCallItem
  | WidgetItem
  | WorkflowItem
  | TaskItem
  | GeneratedImageItem
  | EndOfTurnItem
  | StructuredInputItem
  | HiddenContextItem;

// --- Widgets: a tree of components, each a JSON object with a `type`. ---

export interface ActionConfig {
  type: string;
  payload?: unknown;
  handler?: "client" | "server";
  loadingBehavior?: string;
  streaming?: boolean;
}

/** A widget's root (Card, ListView, Basic), as @openai/chatkit types it. */
export type WidgetRoot = Widgets.WidgetRoot;
/** Any node of a widget tree: a root, a component, or a ListView's item. */
export type WidgetNode = Widgets.WidgetRoot | Widgets.WidgetComponent | Widgets.ListViewItem;

// --- Item updates (thread.item.updated) ---

export type ThreadItemUpdate =
  | { type: "assistant_message.content_part.added"; content_index: number; content: AssistantMessageContent }
  | { type: "assistant_message.content_part.text_delta"; content_index: number; delta: string }
  | {
      type: "assistant_message.content_part.annotation_added";
      content_index: number;
      annotation_index: number;
      annotation: Annotation;
    }
  | { type: "assistant_message.content_part.done"; content_index: number; content: AssistantMessageContent }
  | { type: "widget.streaming_text.value_delta"; component_id: string; delta: string; done: boolean }
  | { type: "widget.component.updated"; component_id: string; component: Widgets.WidgetComponent }
  | { type: "widget.root.updated"; widget: WidgetRoot }
  | { type: "workflow.task.added"; task_index: number; task: Task }
  | { type: "workflow.task.updated"; task_index: number; task: Task }
  | { type: "generated_image.updated"; image: GeneratedImage; progress?: number | null };

// --- Stream events ---

export type ThreadStreamEvent =
  | { type: "thread.created"; thread: Thread }
  | { type: "thread.updated"; thread: Thread }
  | { type: "thread.item.added"; item: ThreadItem }
  | { type: "thread.item.updated"; item_id: string; update: ThreadItemUpdate }
  | { type: "thread.item.done"; item: ThreadItem }
  | { type: "thread.item.removed"; item_id: string }
  | { type: "thread.item.replaced"; item: ThreadItem }
  | { type: "stream_options"; stream_options: { allow_cancel: boolean } }
  | { type: "progress_update"; icon?: string | null; text: string }
  | { type: "client_effect"; name: string; data: Record<string, unknown> }
  | { type: "error"; code: string; message?: string | null; allow_retry: boolean }
  | { type: "notice"; level: "info" | "warning" | "danger"; message: string; title?: string | null };

export type FeedbackKind = "positive" | "negative";
export type Order = "asc" | "desc";
