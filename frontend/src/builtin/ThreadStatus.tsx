// A locked or closed thread (an admin action) says so, with its reason, above
// the composer; the composer says why it is disabled.
import type { ThreadMetadata } from "../protocol/types";
import { LockIcon } from "./icons";

/** The banner's words: "This chat is locked: <reason>" (the reason when the server gives one). */
export function statusMessage(thread: ThreadMetadata | null): string | null {
  const status = thread?.status;
  if (!status || status.type === "active") return null;
  const reason = status.reason?.trim();
  if (!reason) return `This chat is ${status.type}.`;
  return `This chat is ${status.type}: ${reason}${/[.!?…]$/.test(reason) ? "" : "."}`;
}

/** The composer's placeholder while the thread refuses new messages. */
export function composerReason(thread: ThreadMetadata | null): string | null {
  const status = thread?.status;
  if (!status || status.type === "active") return null;
  return status.type === "locked" ? "This chat is locked: you can read it, not add to it" : "This chat is closed: start a new chat to go on";
}

export const STATUS_BANNER_ID = "thread-status-banner";

export function ThreadStatusBanner({ thread }: { thread: ThreadMetadata | null }) {
  const message = statusMessage(thread);
  if (!message) return null;
  return (
    <div className="mx-auto w-full max-w-3xl px-4 pb-2">
      <div
        id={STATUS_BANNER_ID}
        role="status"
        data-testid="thread-status"
        data-status={thread?.status?.type}
        className="flex items-start gap-2 rounded-lg border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950/60 dark:text-amber-100"
      >
        <LockIcon />
        <span className="flex-1" dir="auto">
          {message} New messages, retries and widget actions are turned off here.
        </span>
      </div>
    </div>
  );
}
