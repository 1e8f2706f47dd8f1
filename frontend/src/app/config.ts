// The settings Django puts in the page with `json_script` (id "chatkit-config").
import { DEFAULT_ATTACHMENTS, parseAttachmentOptions, type AttachmentOptions } from "./attachmentOptions";

export type UiMode = "auto" | "chatkit" | "builtin";

export interface PageConfig {
  apiUrl: string;
  domainKey: string;
  ui: UiMode;
  cdnUrl: string;
  loadTimeoutMs: number;
  attachments: AttachmentOptions;
}

const DEFAULTS: PageConfig = {
  apiUrl: "/chatkit",
  domainKey: "domain_pk_localhost_dev",
  ui: "auto",
  cdnUrl: "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js",
  loadTimeoutMs: 4000,
  attachments: DEFAULT_ATTACHMENTS,
};

export function parseConfig(raw: unknown): PageConfig {
  const obj = raw && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
  const str = (k: keyof PageConfig) => (typeof obj[k] === "string" && obj[k] ? (obj[k] as string) : (DEFAULTS[k] as string));
  const ui = obj.ui === "chatkit" || obj.ui === "builtin" || obj.ui === "auto" ? obj.ui : DEFAULTS.ui;
  const timeout = typeof obj.loadTimeoutMs === "number" && obj.loadTimeoutMs >= 0 ? obj.loadTimeoutMs : DEFAULTS.loadTimeoutMs;
  const attachments = parseAttachmentOptions(obj.attachments);
  return { apiUrl: str("apiUrl"), domainKey: str("domainKey"), cdnUrl: str("cdnUrl"), ui, loadTimeoutMs: timeout, attachments };
}

export function readPageConfig(doc: Document = document): PageConfig {
  const el = doc.getElementById("chatkit-config");
  try {
    return parseConfig(el?.textContent ? JSON.parse(el.textContent) : {});
  } catch {
    return parseConfig({});
  }
}
