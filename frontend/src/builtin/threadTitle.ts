import type { ThreadMetadata } from "../protocol/types";

export function threadTitle(t: ThreadMetadata): string {
  return t.title?.trim() || "New chat";
}

/**
 * Parse a protocol timestamp. Stored items carry an offset; events the SDK
 * streams before storing them carry the server's naive `datetime.now()`,
 * which is UTC (Django's TIME_ZONE default), so a missing offset means UTC.
 */
export function parseTimestamp(iso: string): Date {
  return new Date(/(?:[zZ]|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`);
}

export function shortDate(iso: string): string {
  const d = parseTimestamp(iso);
  if (Number.isNaN(d.getTime())) return "";
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}
