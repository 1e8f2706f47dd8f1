// How the history list takes in a threads.list page that was in flight while
// the list changed. A page is read when the server got the request; a stream's
// thread.created / thread.updated or a delete that happened meanwhile is newer,
// so it must win over the page (a slow first page once wiped the thread the
// person had just started).
import type { ThreadMetadata } from "../protocol/types";

/** What the list learnt while a page request was in flight: threads upserted (id to latest fields) and removed. */
export interface ListChanges {
  upserted: Map<string, ThreadMetadata>;
  removed: Set<string>;
}

export function noChanges(): ListChanges {
  return { upserted: new Map(), removed: new Set() };
}

/** Records an upsert in `changes` (mutates it); the latest fields win, as in {@link upsertThread}. */
export function recordUpsert(changes: ListChanges, thread: ThreadMetadata): void {
  const before = changes.upserted.get(thread.id);
  changes.upserted.set(thread.id, before ? { ...before, ...thread } : thread);
  changes.removed.delete(thread.id);
}

/** Records a removal in `changes` (mutates it). */
export function recordRemove(changes: ListChanges, threadId: string): void {
  changes.upserted.delete(threadId);
  changes.removed.add(threadId);
}

/** `list` with `thread`'s fields merged into its entry, or with `thread` first when it isn't listed. */
export function upsertThread(list: ThreadMetadata[], thread: ThreadMetadata): ThreadMetadata[] {
  const i = list.findIndex((t) => t.id === thread.id);
  if (i === -1) return [thread, ...list];
  const next = list.slice();
  next[i] = { ...list[i], ...thread };
  return next;
}

export function removeThread(list: ThreadMetadata[], threadId: string): ThreadMetadata[] {
  return list.filter((t) => t.id !== threadId);
}

/**
 * The list after a page arrives: `base` (`[]` for the first page, else the
 * list so far), then the page's threads it doesn't have yet, then `changes`
 * (made while the page was in flight) on top: a removed thread stays out, an
 * upserted one gets its newer fields, or goes first if the page lacks it.
 */
export function mergePage(base: ThreadMetadata[], page: ThreadMetadata[], changes: ListChanges): ThreadMetadata[] {
  const known = new Set(base.map((t) => t.id));
  let list = [...base, ...page.filter((t) => !known.has(t.id))];
  if (changes.removed.size) list = list.filter((t) => !changes.removed.has(t.id));
  for (const thread of changes.upserted.values()) list = upsertThread(list, thread);
  return list;
}
