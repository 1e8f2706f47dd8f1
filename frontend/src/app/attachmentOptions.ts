// The attachment limits Django puts in the page config (`attachments`), read
// by both UIs: ChatKit's composer options and the built-in client's checks.
// The server checks everything again (types from the bytes); these only spare
// a person an upload that would be refused.

export type UploadStrategy = "two_phase" | "direct";

export interface AttachmentOptions {
  strategy: UploadStrategy;
  /** POST here for a direct upload; `${uploadUrl}/${id}` downloads one attachment. */
  uploadUrl: string;
  maxBytes: number;
  maxCount: number;
  /** Accepted types: exact ("image/png") or "major/*". */
  types: string[];
  /** ChatKit's `composer.attachments.accept`: type pattern -> extensions. */
  accept: Record<string, string[]>;
}

export const DEFAULT_ATTACHMENTS: AttachmentOptions = {
  strategy: "two_phase",
  uploadUrl: "/chatkit/attachments",
  maxBytes: 10 * 1024 * 1024,
  maxCount: 5,
  types: [],
  accept: {},
};

export function parseAttachmentOptions(raw: unknown): AttachmentOptions {
  const o = raw && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
  const num = (v: unknown, d: number) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : d);
  const accept: Record<string, string[]> = {};
  if (o.accept && typeof o.accept === "object") {
    for (const [k, v] of Object.entries(o.accept as Record<string, unknown>)) {
      accept[k] = Array.isArray(v) ? v.filter((e): e is string => typeof e === "string") : [];
    }
  }
  return {
    strategy: o.strategy === "direct" ? "direct" : "two_phase",
    uploadUrl: typeof o.uploadUrl === "string" && o.uploadUrl ? o.uploadUrl : DEFAULT_ATTACHMENTS.uploadUrl,
    maxBytes: num(o.maxBytes, DEFAULT_ATTACHMENTS.maxBytes),
    maxCount: num(o.maxCount, DEFAULT_ATTACHMENTS.maxCount),
    types: Array.isArray(o.types) ? o.types.filter((t): t is string => typeof t === "string") : [],
    accept,
  };
}

export const attachmentsEnabled = (o: AttachmentOptions) => o.types.length > 0 && o.maxCount > 0;

/** Whether a browser-reported type matches the accepted patterns ("" is unknown: the server decides). */
export function typeAccepted(mime: string, types: string[]): boolean {
  const m = (mime.split(";")[0] ?? "").trim().toLowerCase();
  if (!m) return true;
  return types.some((p) => {
    const t = p.trim().toLowerCase();
    return t.endsWith("/*") ? m.startsWith(t.slice(0, -1)) : t === m;
  });
}

/** The `accept` attribute of a file input: the patterns and their extensions. */
export function acceptAttribute(o: AttachmentOptions): string {
  return [...o.types, ...Object.values(o.accept).flat()].join(",");
}

export const attachmentUrl = (o: AttachmentOptions, id: string) => `${o.uploadUrl}/${encodeURIComponent(id)}`;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}
