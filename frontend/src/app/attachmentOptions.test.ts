import { describe, expect, it } from "vitest";
import { acceptAttribute, attachmentUrl, formatBytes, parseAttachmentOptions, typeAccepted } from "./attachmentOptions";
import { parseConfig } from "./config";

describe("attachment options", () => {
  it("parses the page's options and falls back on bad values", () => {
    const o = parseAttachmentOptions({ strategy: "direct", maxBytes: 5, maxCount: -1, types: ["text/*", 3], accept: { "text/*": [".txt", 1] } });
    expect(o).toMatchObject({ strategy: "direct", maxBytes: 5, maxCount: 5, types: ["text/*"], accept: { "text/*": [".txt"] } });
    expect(parseAttachmentOptions(null).strategy).toBe("two_phase");
    expect(parseConfig({ attachments: { strategy: "direct" } }).attachments.strategy).toBe("direct");
  });

  it("matches exact types and major/* patterns; an unknown type is left to the server", () => {
    const types = ["image/png", "text/*"];
    expect(typeAccepted("image/png", types)).toBe(true);
    expect(typeAccepted("text/markdown; charset=utf-8", types)).toBe(true);
    expect(typeAccepted("image/svg+xml", types)).toBe(false);
    expect(typeAccepted("", types)).toBe(true);
  });

  it("builds the file input's accept, download URLs and sizes", () => {
    const o = parseAttachmentOptions({ types: ["image/png"], accept: { "image/png": [".png"] } });
    expect(acceptAttribute(o)).toBe("image/png,.png");
    expect(attachmentUrl(o, "atc_1")).toBe("/chatkit/attachments/atc_1");
    expect(formatBytes(2048)).toBe("2.0 KB");
  });
});
