// The settings Django puts in the page with `json_script` (id "chatkit-config").
import type { Theme } from "./store";
import { DEFAULT_ATTACHMENTS, parseAttachmentOptions, type AttachmentOptions } from "./attachmentOptions";

export type UiMode = "auto" | "chatkit" | "builtin";

/** A model the user may pick (settings.CHATKIT_MODELS); its id travels as inference_options.model. */
export interface ModelChoice {
  id: string;
  label: string;
  default: boolean;
}

/** A start-screen suggestion (settings.CHATKIT_START_PROMPTS); `theme`: shown only in that theme. */
export interface StartPrompt {
  label: string;
  prompt: string;
  icon?: string;
  theme?: Theme;
}

export interface PageConfig {
  apiUrl: string;
  /** GET ?thread_id=… -> {"feedback": {item_id: kind}, "stopped": [item_id]} (the protocol's items carry neither). */
  itemStateUrl: string;
  /** The live-thread WebSocket's path (chat.routing). */
  liveUrl: string;
  domainKey: string;
  ui: UiMode;
  cdnUrl: string;
  loadTimeoutMs: number;
  models: ModelChoice[];
  greeting: string;
  startPrompts: StartPrompt[];
  /** The page's ?thread= link names a thread that doesn't exist or isn't this visitor's. */
  missingThread: boolean;
  attachments: AttachmentOptions;
}

const DEFAULTS: PageConfig = {
  apiUrl: "/chatkit",
  itemStateUrl: "/chatkit/item-state",
  liveUrl: "/chatkit/live",
  domainKey: "domain_pk_localhost_dev",
  ui: "auto",
  cdnUrl: "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js",
  loadTimeoutMs: 4000,
  models: [],
  greeting: "What can I help you with?",
  startPrompts: [],
  missingThread: false,
  attachments: DEFAULT_ATTACHMENTS,
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string" && v.length > 0;

function parseModels(raw: unknown): ModelChoice[] {
  if (!Array.isArray(raw)) return [];
  const models = raw.filter(isObj).filter((m) => isStr(m.id));
  return models.map((m) => ({ id: m.id as string, label: isStr(m.label) ? m.label : (m.id as string), default: m.default === true }));
}

function parsePrompts(raw: unknown): StartPrompt[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter(isObj)
    .filter((p) => isStr(p.label) && isStr(p.prompt))
    .map((p) => ({
      label: p.label as string,
      prompt: p.prompt as string,
      ...(isStr(p.icon) ? { icon: p.icon } : {}),
      ...(p.theme === "light" || p.theme === "dark" ? { theme: p.theme } : {}),
    }));
}

export function parseConfig(raw: unknown): PageConfig {
  const obj = isObj(raw) ? raw : {};
  const str = (k: "apiUrl" | "itemStateUrl" | "liveUrl" | "domainKey" | "cdnUrl" | "greeting") => (isStr(obj[k]) ? (obj[k] as string) : DEFAULTS[k]);
  const ui = obj.ui === "chatkit" || obj.ui === "builtin" || obj.ui === "auto" ? obj.ui : DEFAULTS.ui;
  const timeout = typeof obj.loadTimeoutMs === "number" && obj.loadTimeoutMs >= 0 ? obj.loadTimeoutMs : DEFAULTS.loadTimeoutMs;
  return {
    apiUrl: str("apiUrl"),
    itemStateUrl: str("itemStateUrl"),
    liveUrl: str("liveUrl"),
    domainKey: str("domainKey"),
    cdnUrl: str("cdnUrl"),
    greeting: str("greeting"),
    ui,
    loadTimeoutMs: timeout,
    models: parseModels(obj.models),
    startPrompts: parsePrompts(obj.startPrompts),
    missingThread: obj.missingThread === true,
    attachments: parseAttachmentOptions(obj.attachments),
  };
}

/** The model picked when nothing else says so: the one marked default, else the first. */
export function defaultModel(models: ModelChoice[]): string | null {
  return (models.find((m) => m.default) ?? models[0])?.id ?? null;
}

/** The start prompts that apply now (e.g. "Switch to dark mode" only while light). */
export function promptsFor(prompts: StartPrompt[], theme: Theme): StartPrompt[] {
  return prompts.filter((p) => !p.theme || p.theme === theme);
}

export function readPageConfig(doc: Document = document): PageConfig {
  const el = doc.getElementById("chatkit-config");
  try {
    return parseConfig(el?.textContent ? JSON.parse(el.textContent) : {});
  } catch {
    return parseConfig({});
  }
}
