import { describe, expect, it } from "vitest";
import { ChatKitError } from "./errors";
import { conversationReducer, initialConversation, itemText, reduceEvent, replayStream, userMessageBefore, type ConversationState } from "./reducer";
import type { AssistantMessageItem, ThreadItem, ThreadStreamEvent, WidgetItem, WorkflowItem } from "./types";

const T = "2026-01-01T00:00:00";
const thread = { id: "thr_1", title: null, created_at: T, status: { type: "active" as const }, metadata: {} };
const user: ThreadItem = { id: "u1", thread_id: "thr_1", created_at: T, type: "user_message", content: [{ type: "input_text", text: "hi" }], attachments: [], inference_options: {} };
const assistant: AssistantMessageItem = { id: "a1", thread_id: "thr_1", created_at: T, type: "assistant_message", content: [] };
const widget: WidgetItem = {
  id: "w1",
  thread_id: "thr_1",
  created_at: T,
  type: "widget",
  widget: { type: "Card", children: [{ type: "Text", id: "txt", value: "Hel" }, { type: "Badge", id: "b", label: "new" }] },
};
const workflow: WorkflowItem = { id: "wf1", thread_id: "thr_1", created_at: T, type: "workflow", workflow: { type: "custom", tasks: [] } };

function run(events: ThreadStreamEvent[], from: ConversationState = initialConversation): ConversationState {
  return events.reduce(reduceEvent, from);
}

describe("reduceEvent: every event type", () => {
  it("thread.created and thread.updated set the thread metadata without its items", () => {
    let s = run([{ type: "thread.created", thread: { ...thread, items: { data: [], has_more: false, after: null } } }]);
    expect(s.thread).toEqual(thread);
    s = run([{ type: "thread.updated", thread: { ...thread, title: "Named" } }], s);
    expect(s.thread?.title).toBe("Named");
  });

  it("thread.item.added, .done and .replaced upsert by id", () => {
    let s = run([
      { type: "thread.item.done", item: user },
      { type: "thread.item.added", item: assistant },
    ]);
    expect(s.items.map((i) => i.id)).toEqual(["u1", "a1"]);
    s = run([{ type: "thread.item.done", item: { ...assistant, content: [{ type: "output_text", text: "Final", annotations: [] }] } }], s);
    expect(s.items).toHaveLength(2);
    expect(itemText(s.items[1]!)).toBe("Final");
    s = run([{ type: "thread.item.replaced", item: { ...assistant, content: [{ type: "output_text", text: "Swapped", annotations: [] }] } }], s);
    expect(itemText(s.items[1]!)).toBe("Swapped");
  });

  it("hides hidden-context items", () => {
    const s = run([{ type: "thread.item.done", item: { id: "h", thread_id: "thr_1", created_at: T, type: "sdk_hidden_context", content: "x" } }]);
    expect(s.items).toEqual([]);
  });

  it("thread.item.removed drops the item", () => {
    const s = run([{ type: "thread.item.done", item: user }, { type: "thread.item.removed", item_id: "u1" }]);
    expect(s.items).toEqual([]);
  });

  it("assistant_message content part added / text_delta / annotation_added / done", () => {
    const upd = (update: unknown): ThreadStreamEvent => ({ type: "thread.item.updated", item_id: "a1", update } as ThreadStreamEvent);
    let s = run([
      { type: "thread.item.added", item: assistant },
      upd({ type: "assistant_message.content_part.added", content_index: 0, content: { type: "output_text", text: "", annotations: [] } }),
      upd({ type: "assistant_message.content_part.text_delta", content_index: 0, delta: "Hello" }),
      upd({ type: "assistant_message.content_part.text_delta", content_index: 0, delta: " world" }),
    ]);
    expect(itemText(s.items[0]!)).toBe("Hello world");
    const ann = { type: "annotation", source: { type: "url", title: "Doc", url: "https://example.com" }, index: 5 };
    s = run([upd({ type: "assistant_message.content_part.annotation_added", content_index: 0, annotation_index: 0, annotation: ann })], s);
    expect((s.items[0] as AssistantMessageItem).content[0]!.annotations).toEqual([ann]);
    s = run([upd({ type: "assistant_message.content_part.done", content_index: 0, content: { type: "output_text", text: "Hello world!", annotations: [] } })], s);
    expect(itemText(s.items[0]!)).toBe("Hello world!");
  });

  it("a text delta before its part was added still lands", () => {
    const s = run([
      { type: "thread.item.added", item: assistant },
      { type: "thread.item.updated", item_id: "a1", update: { type: "assistant_message.content_part.text_delta", content_index: 0, delta: "x" } },
    ]);
    expect(itemText(s.items[0]!)).toBe("x");
  });

  it("widget.root.updated, widget.component.updated, widget.streaming_text.value_delta", () => {
    let s = run([
      { type: "thread.item.added", item: widget },
      { type: "thread.item.updated", item_id: "w1", update: { type: "widget.streaming_text.value_delta", component_id: "txt", delta: "lo", done: false } },
    ]);
    let root = (s.items[0] as WidgetItem).widget;
    expect(root.children).toMatchObject([{ id: "txt", value: "Hello", streaming: true }, { id: "b" }]);
    s = run([{ type: "thread.item.updated", item_id: "w1", update: { type: "widget.component.updated", component_id: "b", component: { type: "Badge", id: "b", label: "updated" } } }], s);
    root = (s.items[0] as WidgetItem).widget;
    expect((root.children as { label?: string }[])[1]!.label).toBe("updated");
    s = run([{ type: "thread.item.updated", item_id: "w1", update: { type: "widget.root.updated", widget: { type: "Card", children: [] } } }], s);
    expect((s.items[0] as WidgetItem).widget).toEqual({ type: "Card", children: [] });
  });

  it("workflow.task.added and workflow.task.updated", () => {
    let s = run([
      { type: "thread.item.added", item: workflow },
      { type: "thread.item.updated", item_id: "wf1", update: { type: "workflow.task.added", task_index: 0, task: { type: "custom", title: "Search", status_indicator: "loading" } } },
    ]);
    expect((s.items[0] as WorkflowItem).workflow.tasks).toEqual([{ type: "custom", title: "Search", status_indicator: "loading" }]);
    s = run([{ type: "thread.item.updated", item_id: "wf1", update: { type: "workflow.task.updated", task_index: 0, task: { type: "custom", title: "Search", status_indicator: "complete" } } }], s);
    expect((s.items[0] as WorkflowItem).workflow.tasks[0]!.status_indicator).toBe("complete");
  });

  it("generated_image.updated sets the image", () => {
    const s = run([
      { type: "thread.item.added", item: { id: "g", thread_id: "thr_1", created_at: T, type: "generated_image", image: null } },
      { type: "thread.item.updated", item_id: "g", update: { type: "generated_image.updated", image: { id: "i", url: "/x.png" }, progress: 1 } },
    ]);
    expect(s.items[0]).toMatchObject({ image: { url: "/x.png" } });
  });

  it("an update for an unknown item or a mismatched kind changes nothing", () => {
    const before = run([{ type: "thread.item.added", item: assistant }]);
    const after = run([{ type: "thread.item.updated", item_id: "a1", update: { type: "widget.root.updated", widget: { type: "Card", children: [] } } }], before);
    expect(after.items).toEqual(before.items);
  });

  it("stream_options, progress_update, client_effect, notice", () => {
    const s = run([
      { type: "stream_options", stream_options: { allow_cancel: false } },
      { type: "progress_update", icon: "search", text: "Searching" },
      { type: "client_effect", name: "switch_theme", data: { theme: "dark" } },
      { type: "notice", level: "warning", message: "Be nice", title: "Heads up" },
    ]);
    expect(s.allowCancel).toBe(false);
    expect(s.progress).toEqual({ icon: "search", text: "Searching" });
    expect(s.effects).toEqual([{ name: "switch_theme", data: { theme: "dark" } }]);
    expect(s.notices).toEqual([{ level: "warning", message: "Be nice", title: "Heads up" }]);
    // A new item clears the progress line.
    expect(run([{ type: "thread.item.added", item: assistant }], s).progress).toBeNull();
  });

  it("error events become a shown error, with a message even when the server sent none", () => {
    const s = run([{ type: "error", code: "stream.error", allow_retry: true }]);
    expect(s.error).toEqual({ code: "stream.error", message: "Something went wrong while answering.", allowRetry: true });
    const c = run([{ type: "error", code: "custom", message: "Thread is locked", allow_retry: false }]);
    expect(c.error).toEqual({ code: "custom", message: "Thread is locked", allowRetry: false });
  });

  it("a pending client tool call is kept for the client to answer", () => {
    const call: ThreadItem = { id: "c", thread_id: "thr_1", created_at: T, type: "client_tool_call", status: "pending", call_id: "call_1", name: "switch_theme", arguments: { theme: "dark" } };
    const s = run([{ type: "thread.item.done", item: call }]);
    expect(s.pendingToolCall?.name).toBe("switch_theme");
    const answered = conversationReducer(s, { type: "toolcall.consumed" });
    expect(answered.pendingToolCall).toBeNull();
    expect(answered.items[0]).toMatchObject({ status: "completed" });
  });

  it("unknown event types are ignored", () => {
    expect(run([{ type: "future.event" } as unknown as ThreadStreamEvent])).toEqual(initialConversation);
  });
});

describe("conversationReducer", () => {
  it("loads a page (newest first from items.list) oldest first, and prepends earlier pages", () => {
    let s = conversationReducer(initialConversation, { type: "load.start" });
    expect(s.loading).toBe(true);
    s = conversationReducer(s, { type: "load.done", thread, page: { data: [assistant, user], has_more: true, after: "u1" } });
    expect(s.items.map((i) => i.id)).toEqual(["u1", "a1"]);
    expect(s).toMatchObject({ loading: false, hasEarlier: true, earlierCursor: "u1" });
    const older = { ...user, id: "u0" };
    s = conversationReducer(s, { type: "earlier.done", page: { data: [older], has_more: false, after: null } });
    expect(s.items.map((i) => i.id)).toEqual(["u0", "u1", "a1"]);
    expect(s.hasEarlier).toBe(false);
  });

  it("a retry drops the items after the user message, as the server does", () => {
    const loaded = conversationReducer(initialConversation, { type: "load.done", thread, page: { data: [assistant, user], has_more: false, after: null } });
    const s = conversationReducer(loaded, { type: "stream.start", truncateAfter: "u1" });
    expect(s.items.map((i) => i.id)).toEqual(["u1"]);
    expect(s.streaming).toBe(true);
    expect(userMessageBefore(loaded.items, "a1")).toBe("u1");
    expect(userMessageBefore(loaded.items, "")).toBe("u1");
  });

  it("a failure stops streaming and shows the error", () => {
    const streaming = conversationReducer(initialConversation, { type: "stream.start" });
    const s = conversationReducer(streaming, { type: "failure", error: new ChatKitError("network", "network_error", "offline", { allowRetry: true }) });
    expect(s.streaming).toBe(false);
    expect(s.error).toEqual({ code: "network_error", message: "offline", allowRetry: true });
    expect(conversationReducer(s, { type: "error.dismiss" }).error).toBeNull();
  });
});

describe("feedback, stopped answers and answered widgets", () => {
  const reduce = (actions: Parameters<typeof conversationReducer>[1][], from = initialConversation) => actions.reduce(conversationReducer, from);

  it("past feedback comes with the load and clicks update it", () => {
    let s = reduce([{ type: "load.done", thread, page: { data: [assistant, user], has_more: false, after: null }, itemState: { feedback: { a1: "positive" }, stopped: [] } }]);
    expect(s.feedback).toEqual({ a1: "positive" });
    s = conversationReducer(s, { type: "feedback.given", itemId: "a1", kind: "negative" });
    expect(s.feedback).toEqual({ a1: "negative" });
  });

  it("stopped answers come with the load; so does one the stop button ends", () => {
    const loaded = reduce([{ type: "load.done", thread, page: { data: [assistant, user], has_more: false, after: null }, itemState: { feedback: {}, stopped: ["a1"] } }]);
    expect(loaded.cutOff).toEqual(["a1"]);
    expect(loaded.items.map((i) => i.id)).toEqual(["u1", "a1"]);
    const live = reduce([{ type: "stream.start" }, { type: "event", event: { type: "thread.item.added", item: { ...assistant, id: "a2" } } }, { type: "stream.end", aborted: true }], loaded);
    expect(live.cutOff).toEqual(["a1", "a2"]);
    const finished = reduce([{ type: "stream.start" }, { type: "event", event: { type: "thread.item.done", item: { ...assistant, id: "a3" } } }, { type: "stream.end" }], live);
    expect(finished.cutOff).not.toContain("a3");
  });

  it("a widget stays disabled after its action until the answer touches it or fails", () => {
    const acted = reduce([{ type: "widget.acted", itemId: "w1" }, { type: "stream.start" }]);
    expect(acted.actedWidgets).toEqual(["w1"]);
    const other = conversationReducer(acted, { type: "event", event: { type: "thread.item.done", item: user } });
    expect(other.actedWidgets).toEqual(["w1"]);
    const answered = conversationReducer(other, { type: "event", event: { type: "thread.item.updated", item_id: "w1", update: { type: "widget.root.updated", widget: widget.widget } } });
    expect(answered.actedWidgets).toEqual([]);
    const failed = conversationReducer(acted, { type: "event", event: { type: "error", code: "custom", message: "no", allow_retry: false } });
    expect(failed.actedWidgets).toEqual([]);
  });
});

describe("replayStream", () => {
  it("rebuilds a thread whose answer kept streaming in the background, still streaming", () => {
    const upd = (update: unknown): ThreadStreamEvent => ({ type: "thread.item.updated", item_id: "a1", update } as ThreadStreamEvent);
    const base = { ...initialConversation, thread, items: [user], effects: [{ name: "stale", data: {} }] };
    const events: ThreadStreamEvent[] = [
      { type: "thread.item.added", item: assistant },
      upd({ type: "assistant_message.content_part.added", content_index: 0, content: { type: "output_text", text: "", annotations: [] } }),
      upd({ type: "assistant_message.content_part.text_delta", content_index: 0, delta: "Half an " }),
      { type: "client_effect", name: "switch_theme", data: { theme: "dark" } },
      upd({ type: "assistant_message.content_part.text_delta", content_index: 0, delta: "answer" }),
    ];
    const s = replayStream(base, undefined, events);
    expect(s.streaming).toBe(true);
    expect(s.items.map((it) => it.id)).toEqual(["u1", "a1"]);
    expect(itemText(s.items[1]!)).toBe("Half an answer");
    expect(s.effects).toEqual([]); // they ran when they came
  });

  it("a retry's stream drops the items after the retried message, as the live one did", () => {
    const base = { ...initialConversation, thread, items: [user, assistant] };
    const s = replayStream(base, "u1", []);
    expect(s.items.map((it) => it.id)).toEqual(["u1"]);
  });
});
