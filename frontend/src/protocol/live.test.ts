import { describe, expect, it } from "vitest";
import { socketUrl } from "./live";

describe("socketUrl", () => {
  it("follows the page's scheme and host", () => {
    expect(socketUrl("/chatkit/live", { protocol: "http:", host: "localhost:8000" })).toBe("ws://localhost:8000/chatkit/live");
    expect(socketUrl("/chatkit/live", { protocol: "https:", host: "chat.example" })).toBe("wss://chat.example/chatkit/live");
  });
  it("keeps a full socket URL", () => {
    expect(socketUrl("wss://live.example/x", { protocol: "http:", host: "a" })).toBe("wss://live.example/x");
  });
});
