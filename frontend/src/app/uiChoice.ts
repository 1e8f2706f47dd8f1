// Which UI the page shows. "chatkit" and "builtin" force one; "auto" uses the
// official web component when OpenAI's script defines `openai-chatkit` in
// time, and our own client otherwise (no internet, CDN blocked).
import type { UiMode } from "./config";

export type ChosenUi = "chatkit" | "builtin";

export const CHATKIT_ELEMENT = "openai-chatkit";

/** Adds the CDN <script> once. Resolves false when it fails to load. */
export function loadChatKitScript(src: string, doc: Document = document): Promise<boolean> {
  const existing = doc.querySelector<HTMLScriptElement>(`script[data-chatkit-cdn]`);
  if (existing) return Promise.resolve(true);
  return new Promise((resolve) => {
    const script = doc.createElement("script");
    script.src = src;
    script.async = true;
    script.dataset.chatkitCdn = "";
    script.onload = () => resolve(true);
    script.onerror = () => resolve(false);
    doc.head.appendChild(script);
  });
}

/** Resolves true once the element is defined, false after `timeoutMs`. */
export function waitForElement(
  name: string,
  timeoutMs: number,
  registry: Pick<CustomElementRegistry, "get" | "whenDefined"> = customElements,
): Promise<boolean> {
  if (registry.get(name)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    registry.whenDefined(name).then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The decision itself. In "chatkit" mode the official UI is shown even if the script is slow. */
export async function chooseUi(
  mode: UiMode,
  cdnUrl: string,
  timeoutMs: number,
  deps: { load: (src: string) => Promise<boolean>; wait: (name: string, ms: number) => Promise<boolean> } = {
    load: (src) => loadChatKitScript(src),
    wait: (name, ms) => waitForElement(name, ms),
  },
): Promise<ChosenUi> {
  if (mode === "builtin") return "builtin";
  const loaded = deps.load(cdnUrl);
  if (mode === "chatkit") return "chatkit";
  const defined = await Promise.race([
    deps.wait(CHATKIT_ELEMENT, timeoutMs),
    // A script that fails to load cannot define the element: don't wait out the timeout.
    loaded.then((ok) => (ok ? new Promise<boolean>(() => {}) : false)),
  ]);
  return defined ? "chatkit" : "builtin";
}
