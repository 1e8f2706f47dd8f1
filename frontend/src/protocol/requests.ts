// Builders for ChatKit request bodies. Pure: they only shape JSON, so the
// field names stay in one place and are checked by the unit tests.
import type { ActionConfig, FeedbackKind, Order, UserMessageInput } from "./types";

export type StreamingRequest =
  | { type: "threads.create"; params: { input: UserMessageInput } }
  | { type: "threads.add_user_message"; params: { thread_id: string; input: UserMessageInput } }
  | { type: "threads.retry_after_item"; params: { thread_id: string; item_id: string } }
  | {
      type: "threads.custom_action";
      params: { thread_id: string; item_id: string | null; action: { type: string; payload: unknown } };
    }
  | { type: "threads.add_client_tool_output"; params: { thread_id: string; result: unknown } };

export type JsonRequest =
  | { type: "threads.list"; params: { limit: number; after: string | null; order: Order } }
  | { type: "threads.get_by_id"; params: { thread_id: string } }
  | { type: "items.list"; params: { thread_id: string; limit: number; after: string | null; order: Order } }
  | { type: "threads.update"; params: { thread_id: string; title: string } }
  | { type: "threads.delete"; params: { thread_id: string } }
  | { type: "items.feedback"; params: { thread_id: string; item_ids: string[]; kind: FeedbackKind } };

export type ChatKitRequest = StreamingRequest | JsonRequest;

/** A text message with uploaded attachment ids; `model` (a CHATKIT_MODELS id) goes as inference_options.model when given. */
export function textInput(text: string, model: string | null = null, attachments: string[] = []): UserMessageInput {
  return { content: [{ type: "input_text", text }], attachments, inference_options: model ? { model } : {} };
}

/** A new thread when there is none yet, otherwise a message added to it. */
export function sendMessage(
  threadId: string | null,
  text: string,
  model: string | null = null,
  attachments: string[] = [],
): StreamingRequest {
  const input = textInput(text, model, attachments);
  return threadId
    ? { type: "threads.add_user_message", params: { thread_id: threadId, input } }
    : { type: "threads.create", params: { input } };
}

export const retryAfterItem = (threadId: string, itemId: string): StreamingRequest => ({
  type: "threads.retry_after_item",
  params: { thread_id: threadId, item_id: itemId },
});

export const customAction = (threadId: string, itemId: string | null, action: ActionConfig): StreamingRequest => ({
  type: "threads.custom_action",
  // Only type and payload belong on the wire; handler/loadingBehavior are client hints.
  params: { thread_id: threadId, item_id: itemId, action: { type: action.type, payload: action.payload ?? null } },
});

export const clientToolOutput = (threadId: string, result: unknown): StreamingRequest => ({
  type: "threads.add_client_tool_output",
  params: { thread_id: threadId, result },
});

export const listThreads = (limit: number, after: string | null = null): JsonRequest => ({
  type: "threads.list",
  params: { limit, after, order: "desc" },
});

export const getThread = (threadId: string): JsonRequest => ({
  type: "threads.get_by_id",
  params: { thread_id: threadId },
});

/** Newest first, so the first page is the end of the conversation and `after` pages back in time. */
export const listItems = (threadId: string, limit: number, after: string | null = null): JsonRequest => ({
  type: "items.list",
  params: { thread_id: threadId, limit, after, order: "desc" },
});

export const renameThread = (threadId: string, title: string): JsonRequest => ({
  type: "threads.update",
  params: { thread_id: threadId, title },
});

export const deleteThread = (threadId: string): JsonRequest => ({
  type: "threads.delete",
  params: { thread_id: threadId },
});

export const feedback = (threadId: string, itemIds: string[], kind: FeedbackKind): JsonRequest => ({
  type: "items.feedback",
  params: { thread_id: threadId, item_ids: itemIds, kind },
});
