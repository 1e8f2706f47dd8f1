import { describe, expect, it } from "vitest";
import * as req from "./requests";

describe("request builders", () => {
  it("starts a thread or adds to one", () => {
    const input = { content: [{ type: "input_text", text: "hi" }], attachments: [], inference_options: {} };
    expect(req.sendMessage(null, "hi")).toEqual({ type: "threads.create", params: { input } });
    expect(req.sendMessage("thr_1", "hi")).toEqual({ type: "threads.add_user_message", params: { thread_id: "thr_1", input } });
    expect(req.sendMessage("thr_1", "hi", "echo").params).toMatchObject({ input: { inference_options: { model: "echo" } } });
  });

  it("shapes the other requests with the server's field names", () => {
    expect(req.listThreads(20)).toEqual({ type: "threads.list", params: { limit: 20, after: null, order: "desc" } });
    expect(req.listItems("t", 30, "c")).toEqual({ type: "items.list", params: { thread_id: "t", limit: 30, after: "c", order: "desc" } });
    expect(req.getThread("t")).toEqual({ type: "threads.get_by_id", params: { thread_id: "t" } });
    expect(req.renameThread("t", "New")).toEqual({ type: "threads.update", params: { thread_id: "t", title: "New" } });
    expect(req.deleteThread("t")).toEqual({ type: "threads.delete", params: { thread_id: "t" } });
    expect(req.feedback("t", ["m"], "negative")).toEqual({ type: "items.feedback", params: { thread_id: "t", item_ids: ["m"], kind: "negative" } });
    expect(req.retryAfterItem("t", "u")).toEqual({ type: "threads.retry_after_item", params: { thread_id: "t", item_id: "u" } });
    expect(req.clientToolOutput("t", { ok: 1 })).toEqual({ type: "threads.add_client_tool_output", params: { thread_id: "t", result: { ok: 1 } } });
  });

  it("sends only type and payload of a widget action", () => {
    const r = req.customAction("t", "w", { type: "pick", payload: { id: 3 }, handler: "server", loadingBehavior: "auto" });
    expect(r).toEqual({ type: "threads.custom_action", params: { thread_id: "t", item_id: "w", action: { type: "pick", payload: { id: 3 } } } });
  });
});
