import { describe, expect, it } from "vitest";
import { parseTimestamp } from "./threadTitle";

describe("parseTimestamp", () => {
  it("reads a naive server timestamp as UTC", () => {
    expect(parseTimestamp("2026-11-29T10:47:14.417558").toISOString()).toBe("2026-11-29T10:47:14.417Z");
  });
  it("keeps an explicit offset", () => {
    expect(parseTimestamp("2026-11-29T10:47:14+02:00").toISOString()).toBe("2026-11-29T08:47:14.000Z");
    expect(parseTimestamp("2026-11-29T10:47:14Z").toISOString()).toBe("2026-11-29T10:47:14.000Z");
  });
});
