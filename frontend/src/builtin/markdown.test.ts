import { describe, expect, it } from "vitest";
import { codeLanguage } from "./Markdown";

describe("codeLanguage", () => {
  it("reads the fence language from the code element's class", () => {
    const pre = (className: unknown) => ({ type: "element", tagName: "pre", children: [{ type: "element", tagName: "code", properties: { className } }] });
    expect(codeLanguage(pre(["language-python"]))).toBe("python");
    expect(codeLanguage(pre("hljs language-ts"))).toBe("ts");
    expect(codeLanguage(pre(undefined))).toBeNull();
    expect(codeLanguage(undefined)).toBeNull();
  });
});
