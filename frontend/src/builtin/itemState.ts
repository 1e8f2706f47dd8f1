// What the protocol's items don't carry: past thumbs up/down and which answers
// a stop cut short. The page's config names our own owner-checked endpoint
// (chat.views.item_state).
import type { FetchLike } from "../protocol/client";
import { errorFromResponse } from "../protocol/errors";
import type { ItemState } from "../protocol/reducer";

/** GET `url`?thread_id=… -> {feedback: {item_id: kind}, stopped: [item_id]}. Rejects with a ChatKitError on a non-2xx answer. */
export async function fetchItemState(fetch: FetchLike, url: string, threadId: string): Promise<ItemState> {
  const res = await fetch(`${url}?${new URLSearchParams({ thread_id: threadId })}`, { headers: { Accept: "application/json" } });
  if (!res.ok) throw await errorFromResponse(res);
  const body = (await res.json()) as { feedback?: Record<string, unknown>; stopped?: unknown };
  const state: ItemState = { feedback: {}, stopped: [] };
  for (const [id, kind] of Object.entries(body.feedback ?? {})) {
    if (kind === "positive" || kind === "negative") state.feedback[id] = kind;
  }
  if (Array.isArray(body.stopped)) state.stopped = body.stopped.filter((id): id is string => typeof id === "string");
  return state;
}
