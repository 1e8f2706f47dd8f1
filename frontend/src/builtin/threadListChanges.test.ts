import { describe, expect, it } from "vitest";
import type { ThreadMetadata } from "../protocol/types";
import { mergePage, noChanges, recordRemove, recordUpsert } from "./threadListChanges";

function thread(id: string, title: string | null = id): ThreadMetadata {
  return { id, title, created_at: "2026-12-01T18:00:00" };
}

const ids = (list: ThreadMetadata[]) => list.map((t) => t.id);

describe("mergePage", () => {
  it("takes the first page as the list when nothing changed meanwhile", () => {
    expect(mergePage([], [thread("a"), thread("b")], noChanges())).toEqual([thread("a"), thread("b")]);
  });

  it("keeps a thread started while the first page was in flight, first, with its latest title", () => {
    const changes = noChanges();
    recordUpsert(changes, thread("new", null)); // thread.created
    recordUpsert(changes, thread("new", "مرحبا بالعالم")); // thread.updated: the title
    const list = mergePage([], [thread("a"), thread("b")], changes);
    expect(ids(list)).toEqual(["new", "a", "b"]);
    expect(list[0]?.title).toBe("مرحبا بالعالم");
  });

  it("gives a listed thread the fields upserted meanwhile, in its place", () => {
    const changes = noChanges();
    recordUpsert(changes, thread("b", "Renamed"));
    const list = mergePage([], [thread("a"), thread("b", null)], changes);
    expect(list).toEqual([thread("a"), thread("b", "Renamed")]);
  });

  it("puts several new threads first, the latest first, as upserts one by one would", () => {
    const changes = noChanges();
    recordUpsert(changes, thread("x"));
    recordUpsert(changes, thread("y"));
    recordUpsert(changes, thread("x", "x again")); // an update doesn't move it
    expect(mergePage([], [thread("a")], changes)).toEqual([thread("y"), thread("x", "x again"), thread("a")]);
  });

  it("keeps a thread removed meanwhile out, even when the page lists it", () => {
    const changes = noChanges();
    recordRemove(changes, "b");
    expect(ids(mergePage([], [thread("a"), thread("b"), thread("c")], changes))).toEqual(["a", "c"]);
  });

  it("forgets an upsert when the thread is removed after it", () => {
    const changes = noChanges();
    recordUpsert(changes, thread("new"));
    recordRemove(changes, "new");
    expect(ids(mergePage([], [thread("a")], changes))).toEqual(["a"]);
  });

  it("appends a later page without duplicates, keeping the list's newer copy and the removals", () => {
    const changes = noChanges();
    recordRemove(changes, "d");
    const list = mergePage([thread("a"), thread("b", "Newer")], [thread("b", "Older"), thread("c"), thread("d")], changes);
    expect(list).toEqual([thread("a"), thread("b", "Newer"), thread("c")]);
  });
});
