import { describe, expect, it, vi } from "vitest";
import { defaultModel, parseConfig, promptsFor } from "./config";
import { makeCsrfFetch, readCookie } from "./csrf";
import { chooseUi, waitForElement } from "./uiChoice";

describe("page config", () => {
  it("falls back to defaults for missing or wrong values", () => {
    expect(parseConfig({ ui: "nonsense", loadTimeoutMs: -1 })).toMatchObject({ ui: "auto", loadTimeoutMs: 4000, apiUrl: "/chatkit" });
    expect(parseConfig({ ui: "builtin", domainKey: "k" })).toMatchObject({ ui: "builtin", domainKey: "k" });
    expect(parseConfig({ models: "x", startPrompts: [{ label: 1 }], missingThread: "yes" })).toMatchObject({ models: [], startPrompts: [], missingThread: false });
  });

  it("reads models and prompts; the default model is the marked one, else the first", () => {
    const c = parseConfig({
      models: [{ id: "a", label: "A" }, { id: "b", label: "B", default: true }, { label: "no id" }],
      startPrompts: [{ label: "Dark", prompt: "go dark", theme: "light" }, { label: "Any", prompt: "hi", theme: "sepia" }],
    });
    expect(c.models.map((m) => m.id)).toEqual(["a", "b"]);
    expect(defaultModel(c.models)).toBe("b");
    expect(defaultModel([{ id: "x", label: "X", default: false }])).toBe("x");
    expect(defaultModel([])).toBeNull();
    expect(promptsFor(c.startPrompts, "light").map((p) => p.label)).toEqual(["Dark", "Any"]);
    expect(promptsFor(c.startPrompts, "dark").map((p) => p.label)).toEqual(["Any"]);
  });
});

describe("CSRF fetch", () => {
  it("reads the csrftoken cookie and sends it with same-origin credentials", async () => {
    expect(readCookie("csrftoken", "a=1; csrftoken=abc%3D; b=2")).toBe("abc=");
    const base = vi.fn(async () => new Response("{}"));
    await makeCsrfFetch(base, () => "csrftoken=tok123")("/chatkit", { method: "POST", headers: { "Content-Type": "application/json" } });
    const init = (base.mock.calls[0] as unknown as [string, RequestInit])[1];
    const headers = new Headers(init.headers);
    expect(headers.get("X-CSRFToken")).toBe("tok123");
    expect(headers.get("Content-Type")).toBe("application/json");
    expect(init.credentials).toBe("same-origin");
  });
});

describe("choosing the UI", () => {
  const never = () => new Promise<boolean>(() => {});
  it("builtin never loads the CDN script", async () => {
    const load = vi.fn(never);
    await expect(chooseUi("builtin", "x", 10, { load, wait: never })).resolves.toBe("builtin");
    expect(load).not.toHaveBeenCalled();
  });
  it("chatkit forces the official UI", async () => {
    await expect(chooseUi("chatkit", "x", 10, { load: async () => false, wait: async () => false })).resolves.toBe("chatkit");
  });
  it("auto picks chatkit when the element gets defined, builtin when the script fails or times out", async () => {
    await expect(chooseUi("auto", "x", 10, { load: never, wait: async () => true })).resolves.toBe("chatkit");
    await expect(chooseUi("auto", "x", 10_000, { load: async () => false, wait: never })).resolves.toBe("builtin");
    await expect(chooseUi("auto", "x", 10, { load: async () => true, wait: (n, ms) => waitForElement(n, ms, { get: () => undefined, whenDefined: never as never }) })).resolves.toBe("builtin");
  });
});
