import { describe, expect, it } from "vitest";
import { composerReason, statusMessage } from "./ThreadStatus";

const thread = (status: unknown) => ({ id: "thr_1", created_at: "2026-01-01T00:00:00", status }) as never;

describe("thread status words", () => {
  it("an active thread says nothing", () => {
    expect(statusMessage(thread({ type: "active" }))).toBeNull();
    expect(composerReason(thread({ type: "active" }))).toBeNull();
    expect(statusMessage(null)).toBeNull();
  });
  it("a locked or closed thread gives its status, and its reason as one sentence", () => {
    expect(statusMessage(thread({ type: "locked", reason: "Locked by a moderator" }))).toBe("This chat is locked: Locked by a moderator.");
    expect(statusMessage(thread({ type: "locked", reason: "Spam!" }))).toBe("This chat is locked: Spam!");
    expect(statusMessage(thread({ type: "closed", reason: null }))).toBe("This chat is closed.");
    expect(composerReason(thread({ type: "locked" }))).toMatch(/locked/);
    expect(composerReason(thread({ type: "closed" }))).toMatch(/closed/);
  });
});
