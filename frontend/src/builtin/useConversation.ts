// Binds the pure conversation reducer to the transport: opening a thread,
// sending, streaming, stopping, retrying, actions and client tools.
//
// Opening another thread doesn't stop an answer being written: its stream keeps
// running unseen (the server writes and saves it to the end), and coming back to
// that thread while it runs shows it again, rebuilt from its events (replayStream).
// Only the stop button, or leaving the page, aborts a stream. A client tool call it
// ends on unseen is still this tab's to answer (answerUnseenToolCall).
import { useCallback, useEffect, useLayoutEffect, useReducer, useRef } from "react";
import { runClientEffect, runClientTool } from "../app/clientTools";
import { MISSING_THREAD_MESSAGE } from "../app/store";
import type { ChatKitClient } from "../protocol/client";
import { ChatKitError, isAbort } from "../protocol/errors";
import {
  conversationReducer,
  initialConversation,
  replayStream,
  userMessageBefore,
  type ConversationState,
  type ItemState,
} from "../protocol/reducer";
import * as req from "../protocol/requests";
import type { ActionConfig, FeedbackKind, Page, ThreadItem, ThreadMetadata, ThreadStreamEvent } from "../protocol/types";

export const ITEM_PAGE_SIZE = 30;

function asChatKitError(err: unknown): ChatKitError {
  if (err instanceof ChatKitError) return err;
  return new ChatKitError("protocol", "client_error", err instanceof Error ? err.message : "Something went wrong.");
}

export interface ConversationHooks {
  /** A thread was created, renamed or updated: the history list follows. */
  onThread: (thread: ThreadMetadata) => void;
  /** The thread asked for doesn't exist or isn't this owner's (404). */
  onMissing: (threadId: string) => void;
  /** Past feedback and stopped answers of a thread (the protocol's items carry neither). */
  loadItemState: (threadId: string) => Promise<ItemState>;
}

/** One streaming request of this page, shown (attached) or running in the background. */
interface RunningStream {
  controller: AbortController;
  /** The thread it writes in (null until a new thread's `thread.created`). */
  threadId: string | null;
  attached: boolean;
  /** The conversation when it started, and its events since: enough to show it again. */
  base: ConversationState;
  truncateAfter?: string;
  events: ThreadStreamEvent[];
}

/**
 * A stream that ended unseen on a pending client tool call: this tab asked for it, so this
 * tab answers it (a thread loaded from the server never runs one: see applyLive), in
 * another unseen stream that coming back to the thread shows like any other. A stream
 * shown when it ends is answered by the effect on `pendingToolCall` instead.
 */
function answerUnseenToolCall(
  ended: RunningStream,
  follow: (stream: RunningStream, request: StreamingRequestSoon) => Promise<boolean>,
): void {
  const seen = replayStream(ended.base, ended.truncateAfter, ended.events);
  const call = seen.pendingToolCall;
  if (!call) return;
  const answer: RunningStream = {
    controller: new AbortController(),
    threadId: call.thread_id,
    attached: false,
    base: conversationReducer(conversationReducer(seen, { type: "stream.end" }), { type: "toolcall.consumed" }),
    events: [],
  };
  // Registered (so shown if the thread is opened, aborted if the chat goes) while the tool runs.
  void follow(answer, runClientTool(call.name, call.arguments).then((result) => req.clientToolOutput(call.thread_id, result)));
}

/** A streaming request, or one still being put together (a client tool's output). */
type StreamingRequestSoon = req.StreamingRequest | Promise<req.StreamingRequest>;

/** A thread that refuses new turns (locked or closed by an admin). */
export function isReadOnly(thread: ThreadMetadata | null): boolean {
  return !!thread?.status && thread.status.type !== "active";
}

export function useConversation(client: ChatKitClient, hooks: ConversationHooks) {
  const [state, dispatch] = useReducer(conversationReducer, initialConversation);
  /** The stream the shown conversation follows, if any; `running` holds it and the background ones. */
  const attached = useRef<RunningStream | null>(null);
  const running = useRef(new Set<RunningStream>());
  const loadSeq = useRef(0);
  const hooksRef = useRef(hooks);
  useLayoutEffect(() => {
    hooksRef.current = hooks;
  });

  const onEvent = useCallback((event: ThreadStreamEvent) => {
    dispatch({ type: "event", event });
    if (event.type === "thread.created" || event.type === "thread.updated") {
      const { items: _items, ...meta } = event.thread;
      hooksRef.current.onThread(meta);
    }
  }, []);

  const stateRef = useRef(state);
  useLayoutEffect(() => {
    stateRef.current = state;
  });

  /** An event of the open thread written by another connection (protocol/live.ts). */
  const applyLive = useCallback(
    (threadId: string, event: ThreadStreamEvent) => {
      const now = stateRef.current;
      // Our own stream already brings its events; a loading thread gets them from the list.
      if (now.streaming || now.loading || now.thread?.id !== threadId) return;
      // A client tool is the requesting tab's to run, not every watcher's.
      if ((event.type === "thread.item.done" || event.type === "thread.item.added") && event.item.type === "client_tool_call") return;
      onEvent(event);
    },
    [onEvent],
  );

  /** Follows one stream to its end, shown or not; returns false if it failed before or during it. */
  const follow = useCallback(
    async function follow(stream: RunningStream, request: StreamingRequestSoon): Promise<boolean> {
      running.current.add(stream);
      const onStreamEvent = (event: ThreadStreamEvent) => {
        stream.events.push(event);
        if (event.type === "thread.created") stream.threadId = event.thread.id;
        if (stream.attached) {
          onEvent(event);
          return;
        }
        // Unseen: the history list still follows, and client effects still run.
        if (event.type === "thread.created" || event.type === "thread.updated") {
          const { items: _items, ...meta } = event.thread;
          hooksRef.current.onThread(meta);
        } else if (event.type === "client_effect") {
          runClientEffect(event.name, event.data);
        }
      };
      try {
        await client.stream(await request, onStreamEvent, stream.controller.signal);
        if (stream.attached) dispatch({ type: "stream.end" });
        else answerUnseenToolCall(stream, follow);
        return true;
      } catch (err) {
        if (!stream.attached) return isAbort(err);
        if (isAbort(err)) {
          dispatch({ type: "stream.end", aborted: true });
          return true;
        }
        dispatch({ type: "failure", error: asChatKitError(err) });
        return false;
      } finally {
        running.current.delete(stream);
        if (attached.current === stream) attached.current = null;
      }
    },
    [client, onEvent],
  );

  /** Runs one streaming request in the shown thread; returns false if it failed before or during the stream. */
  const runStream = useCallback(
    (request: req.StreamingRequest, truncateAfter?: string): Promise<boolean> => {
      attached.current?.controller.abort(); // the shown thread's previous stream (a double click)
      const now = stateRef.current;
      const stream: RunningStream = {
        controller: new AbortController(),
        threadId: now.thread?.id ?? null,
        attached: true,
        base: now,
        truncateAfter,
        events: [],
      };
      attached.current = stream;
      dispatch({ type: "stream.start", truncateAfter });
      return follow(stream, request);
    },
    [follow],
  );

  const open = useCallback(
    async (threadId: string | null) => {
      // The shown stream goes on in the background (see the top of this file).
      if (attached.current) attached.current.attached = false;
      attached.current = null;
      const seq = ++loadSeq.current;
      const background = threadId ? [...running.current].find((s) => s.threadId === threadId) : undefined;
      if (background) {
        // Still being written: show it as it is now, and follow it again.
        background.attached = true;
        attached.current = background;
        dispatch({ type: "restore", state: replayStream(background.base, background.truncateAfter, background.events) });
        return;
      }
      if (!threadId) {
        dispatch({ type: "reset" });
        return;
      }
      dispatch({ type: "load.start" });
      try {
        const [thread, page, itemState] = await Promise.all([
          client.request<ThreadMetadata & { items?: unknown }>(req.getThread(threadId)),
          client.request<Page<ThreadItem>>(req.listItems(threadId, ITEM_PAGE_SIZE)),
          // A nicety: a failure here must not hide the conversation.
          hooksRef.current.loadItemState(threadId).catch(() => undefined),
        ]);
        if (seq !== loadSeq.current) return; // another thread was opened meanwhile
        const { items: _items, ...meta } = thread;
        dispatch({ type: "load.done", thread: meta, page, itemState });
      } catch (err) {
        if (seq !== loadSeq.current) return;
        const error = asChatKitError(err);
        if (error.status === 404) {
          // A dead or foreign link: say so in words, without the raw id, and forget it.
          dispatch({ type: "failure", error: { code: "thread_missing", message: MISSING_THREAD_MESSAGE, allowRetry: false } });
          hooksRef.current.onMissing(threadId);
        } else {
          dispatch({ type: "failure", error });
        }
      }
    },
    [client],
  );

  const loadEarlier = useCallback(async () => {
    if (!state.thread || !state.earlierCursor) return;
    try {
      const page = await client.request<Page<ThreadItem>>(req.listItems(state.thread.id, ITEM_PAGE_SIZE, state.earlierCursor));
      dispatch({ type: "earlier.done", page });
    } catch (err) {
      dispatch({ type: "failure", error: asChatKitError(err) });
    }
  }, [client, state.thread, state.earlierCursor]);

  const send = useCallback(
    (text: string, model: string | null = null, attachmentIds: string[] = []) =>
      runStream(req.sendMessage(state.thread?.id ?? null, text, model, attachmentIds)),
    [runStream, state.thread],
  );

  const stop = useCallback(() => attached.current?.controller.abort(), []);

  /** Retry the answer to the user message at or before `itemId`. */
  const retry = useCallback(
    (itemId?: string) => {
      if (!state.thread || isReadOnly(state.thread)) return;
      const target = itemId ? state.items.find((it) => it.id === itemId) : undefined;
      const userId = target?.type === "user_message" ? target.id : userMessageBefore(state.items, itemId ?? "");
      if (!userId) return;
      void runStream(req.retryAfterItem(state.thread.id, userId), userId);
    },
    [runStream, state.thread, state.items],
  );

  const sendFeedback = useCallback(
    async (itemId: string, kind: FeedbackKind): Promise<boolean> => {
      if (!state.thread) return false;
      try {
        await client.request(req.feedback(state.thread.id, [itemId], kind));
        dispatch({ type: "feedback.given", itemId, kind });
        return true;
      } catch (err) {
        dispatch({ type: "failure", error: asChatKitError(err) });
        return false;
      }
    },
    [client, state.thread],
  );

  const action = useCallback(
    (itemId: string | null, config: ActionConfig) => {
      if (config.handler === "client") {
        // Client-handled widget actions go to the same registry as client tools.
        runClientEffect(config.type, (config.payload as Record<string, unknown>) ?? {});
        return;
      }
      if (!state.thread || isReadOnly(state.thread)) return;
      // One choice per widget: its controls stay disabled until the answer updates it.
      if (itemId) dispatch({ type: "widget.acted", itemId });
      void runStream(req.customAction(state.thread.id, itemId, config));
    },
    [runStream, state.thread],
  );

  const rename = useCallback(
    async (title: string) => {
      if (!state.thread) return;
      try {
        const thread = await client.request<ThreadMetadata & { items?: unknown }>(req.renameThread(state.thread.id, title));
        const { items: _items, ...meta } = thread;
        dispatch({ type: "thread.renamed", thread: meta });
        hooksRef.current.onThread(meta);
      } catch (err) {
        dispatch({ type: "failure", error: asChatKitError(err) });
      }
    },
    [client, state.thread],
  );

  const remove = useCallback(async (): Promise<string | null> => {
    if (!state.thread) return null;
    const id = state.thread.id;
    try {
      await client.request(req.deleteThread(id));
      dispatch({ type: "reset" });
      return id;
    } catch (err) {
      dispatch({ type: "failure", error: asChatKitError(err) });
      return null;
    }
  }, [client, state.thread]);

  const dismissError = useCallback(() => dispatch({ type: "error.dismiss" }), []);

  // Client effects: run once each.
  useEffect(() => {
    if (state.effects.length === 0) return;
    for (const effect of state.effects) runClientEffect(effect.name, effect.data);
    dispatch({ type: "effects.consumed" });
  }, [state.effects]);

  // A client tool call ends the server's turn; answer it once the stream is over.
  useEffect(() => {
    const call = state.pendingToolCall;
    if (!call || state.streaming) return;
    dispatch({ type: "toolcall.consumed" });
    void runClientTool(call.name, call.arguments).then((result) =>
      runStream(req.clientToolOutput(call.thread_id, result)),
    );
  }, [state.pendingToolCall, state.streaming, runStream]);

  // Leaving the page (unmounting the chat) ends every stream, shown or not.
  useEffect(() => {
    const streams = running.current;
    return () => {
      for (const stream of streams) stream.controller.abort();
    };
  }, []);

  return { state, applyLive, open, loadEarlier, send, stop, retry, sendFeedback, action, rename, remove, dismissError };
}

export type Conversation = ReturnType<typeof useConversation>;
