// The settings Django puts in the page with `json_script` (id "chatkit-config").

export type UiMode = "auto" | "chatkit" | "builtin";

export interface PageConfig {
  apiUrl: string;
  /** The live-thread WebSocket's path (chat.routing). */
  liveUrl: string;
  domainKey: string;
  ui: UiMode;
  cdnUrl: string;
  loadTimeoutMs: number;
}

const DEFAULTS: PageConfig = {
  apiUrl: "/chatkit",
  liveUrl: "/chatkit/live",
  domainKey: "domain_pk_localhost_dev",
  ui: "auto",
  cdnUrl: "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js",
  loadTimeoutMs: 4000,
};

export function parseConfig(raw: unknown): PageConfig {
  const obj = raw && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
  const str = (k: keyof PageConfig) => (typeof obj[k] === "string" && obj[k] ? (obj[k] as string) : (DEFAULTS[k] as string));
  const ui = obj.ui === "chatkit" || obj.ui === "builtin" || obj.ui === "auto" ? obj.ui : DEFAULTS.ui;
  const timeout = typeof obj.loadTimeoutMs === "number" && obj.loadTimeoutMs >= 0 ? obj.loadTimeoutMs : DEFAULTS.loadTimeoutMs;
  return { apiUrl: str("apiUrl"), liveUrl: str("liveUrl"), domainKey: str("domainKey"), cdnUrl: str("cdnUrl"), ui, loadTimeoutMs: timeout };
}

export function readPageConfig(doc: Document = document): PageConfig {
  const el = doc.getElementById("chatkit-config");
  try {
    return parseConfig(el?.textContent ? JSON.parse(el.textContent) : {});
  } catch {
    return parseConfig({});
  }
}
