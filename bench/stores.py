"""The baselines' stores: in memory (ChatKit's samples) and aiosqlite JSON rows (the SDK's tests).

Both implement ``chatkit.store.Store[RequestContext]`` with the same
semantics as :class:`chat.store.DjangoStore` (owner-scoped, upserts, items
in insertion order), so ``chat.server.ChatServer`` runs on them unchanged.
"""

from __future__ import annotations

import uuid

import aiosqlite
from chatkit.store import NotFoundError, Store
from chatkit.types import Attachment, Page, Thread as ThreadWithItems, ThreadItem, ThreadMetadata
from pydantic import TypeAdapter

ITEM_ADAPTER: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)
ATTACHMENT_ADAPTER: TypeAdapter[Attachment] = TypeAdapter(Attachment)


def _new_id(kind: str) -> str:
    return f"{kind[:3]}_{uuid.uuid4().hex}"


def _meta(thread: ThreadMetadata) -> ThreadMetadata:
    if isinstance(thread, ThreadWithItems):
        return ThreadMetadata(**thread.model_dump(exclude={"items"}))
    return thread.model_copy()


class _Ids:
    def generate_thread_id(self, context) -> str:
        return _new_id("thread")

    def generate_item_id(self, item_type, thread, context) -> str:
        return _new_id(item_type)


class MemoryStore(_Ids, Store):
    """Dicts and lists; what ChatKit's own samples ship."""

    def __init__(self) -> None:
        self.threads: dict[str, tuple[str, ThreadMetadata]] = {}
        self.items: dict[str, list[ThreadItem]] = {}
        self.pos: dict[str, dict[str, int]] = {}
        self.attachments: dict[str, tuple[str, Attachment]] = {}

    def _owned(self, thread_id: str, context) -> None:
        entry = self.threads.get(thread_id)
        if entry is None or entry[0] != context.owner:
            raise NotFoundError(f"Thread {thread_id} not found")

    async def load_thread(self, thread_id, context):
        self._owned(thread_id, context)
        return self.threads[thread_id][1].model_copy()

    async def save_thread(self, thread, context):
        entry = self.threads.get(thread.id)
        if entry is not None and entry[0] != context.owner:
            raise NotFoundError(f"Thread {thread.id} not found")
        self.threads[thread.id] = (context.owner, _meta(thread))
        self.items.setdefault(thread.id, [])
        self.pos.setdefault(thread.id, {})

    async def load_threads(self, limit, after, order, context):
        mine = [t for o, t in self.threads.values() if o == context.owner]
        if order == "desc":
            mine.reverse()
        return _page_after(mine, after, limit)

    async def delete_thread(self, thread_id, context):
        self._owned(thread_id, context)
        del self.threads[thread_id]
        self.items.pop(thread_id, None)
        self.pos.pop(thread_id, None)

    async def load_thread_items(self, thread_id, after, limit, order, context):
        self._owned(thread_id, context)
        items = self.items[thread_id]
        if after is not None:
            i = self.pos[thread_id].get(after)
            if i is None:
                return Page(data=[], has_more=False)
            rows = items[i + 1 : i + 2 + limit] if order == "asc" else items[max(0, i - limit - 1) : i][::-1]
        else:
            rows = items[: limit + 1] if order == "asc" else items[-(limit + 1) :][::-1]
        has_more = len(rows) > limit
        rows = rows[:limit]
        return Page(data=rows, has_more=has_more, after=rows[-1].id if has_more and rows else None)

    async def add_thread_item(self, thread_id, item, context):
        await self.save_item(thread_id, item, context)

    async def save_item(self, thread_id, item, context):
        self._owned(thread_id, context)
        pos = self.pos[thread_id]
        i = pos.get(item.id)
        if i is None:
            pos[item.id] = len(self.items[thread_id])
            self.items[thread_id].append(item)
        else:
            self.items[thread_id][i] = item

    async def load_item(self, thread_id, item_id, context):
        self._owned(thread_id, context)
        i = self.pos[thread_id].get(item_id)
        if i is None:
            raise NotFoundError(item_id)
        return self.items[thread_id][i]

    async def delete_thread_item(self, thread_id, item_id, context):
        self._owned(thread_id, context)
        items = [it for it in self.items[thread_id] if it.id != item_id]
        self.items[thread_id] = items
        self.pos[thread_id] = {it.id: n for n, it in enumerate(items)}

    async def save_attachment(self, attachment, context):
        self.attachments[attachment.id] = (context.owner, attachment)

    async def load_attachment(self, attachment_id, context):
        entry = self.attachments.get(attachment_id)
        if entry is None or entry[0] != context.owner:
            raise NotFoundError(attachment_id)
        return entry[1]

    async def delete_attachment(self, attachment_id, context):
        self.attachments.pop(attachment_id, None)


def _page_after(rows: list, after: str | None, limit: int) -> Page:
    if after is not None:
        ids = [r.id for r in rows]
        rows = rows[ids.index(after) + 1 :] if after in ids else []
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(data=rows, has_more=has_more, after=rows[-1].id if has_more and rows else None)


SCHEMA = """
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS threads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL,
    created_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS threads_user_seq ON threads (user_id, seq);
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, thread_id TEXT NOT NULL,
    user_id TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL,
    UNIQUE (thread_id, id));
CREATE INDEX IF NOT EXISTS items_thread_seq ON items (thread_id, seq);
CREATE TABLE IF NOT EXISTS attachments (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, data TEXT NOT NULL);
"""


class AioSqliteStore(_Ids, Store):
    """JSON rows in SQLite through one aiosqlite connection: the shape of the SDK's test store."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None

    async def db(self) -> aiosqlite.Connection:
        if self._db is None:
            self._db = await aiosqlite.connect(self.path)
            await self._db.executescript(SCHEMA)
            await self._db.commit()
        return self._db

    async def _owned(self, db, thread_id, context) -> None:
        async with db.execute("SELECT 1 FROM threads WHERE id = ? AND user_id = ?", (thread_id, context.owner)) as cur:
            if await cur.fetchone() is None:
                raise NotFoundError(f"Thread {thread_id} not found")

    async def load_thread(self, thread_id, context):
        db = await self.db()
        async with db.execute(
            "SELECT data FROM threads WHERE id = ? AND user_id = ?", (thread_id, context.owner)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(f"Thread {thread_id} not found")
        return ThreadMetadata.model_validate_json(row[0])

    async def save_thread(self, thread, context):
        db = await self.db()
        meta = _meta(thread)
        cur = await db.execute(
            "INSERT INTO threads (id, user_id, created_at, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data WHERE threads.user_id = excluded.user_id",
            (meta.id, context.owner, meta.created_at.isoformat(), meta.model_dump_json()),
        )
        await db.commit()
        if cur.rowcount == 0:
            raise NotFoundError(f"Thread {thread.id} not found")

    async def load_threads(self, limit, after, order, context):
        db = await self.db()
        op, direction = (">", "ASC") if order == "asc" else ("<", "DESC")
        sql = "SELECT id, data FROM threads WHERE user_id = ?"
        params: list = [context.owner]
        if after:
            sql += f" AND seq {op} (SELECT seq FROM threads WHERE id = ?)"
            params.append(after)
        sql += f" ORDER BY seq {direction} LIMIT ?"
        params.append(limit + 1)
        async with db.execute(sql, params) as cur:
            rows = await cur.fetchall()
        has_more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            data=[ThreadMetadata.model_validate_json(r[1]) for r in rows],
            has_more=has_more,
            after=rows[-1][0] if has_more and rows else None,
        )

    async def delete_thread(self, thread_id, context):
        db = await self.db()
        await self._owned(db, thread_id, context)
        await db.execute("DELETE FROM items WHERE thread_id = ?", (thread_id,))
        await db.execute("DELETE FROM threads WHERE id = ?", (thread_id,))
        await db.commit()

    async def load_thread_items(self, thread_id, after, limit, order, context):
        db = await self.db()
        await self._owned(db, thread_id, context)
        op, direction = (">", "ASC") if order == "asc" else ("<", "DESC")
        sql = "SELECT id, data FROM items WHERE thread_id = ?"
        params: list = [thread_id]
        if after:
            sql += f" AND seq {op} (SELECT seq FROM items WHERE thread_id = ? AND id = ?)"
            params += [thread_id, after]
        sql += f" ORDER BY seq {direction} LIMIT ?"
        params.append(limit + 1)
        async with db.execute(sql, params) as cur:
            rows = await cur.fetchall()
        has_more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            data=[ITEM_ADAPTER.validate_json(r[1]) for r in rows],
            has_more=has_more,
            after=rows[-1][0] if has_more and rows else None,
        )

    async def add_thread_item(self, thread_id, item, context):
        await self.save_item(thread_id, item, context)

    async def save_item(self, thread_id, item, context):
        db = await self.db()
        await self._owned(db, thread_id, context)
        await db.execute(
            "INSERT INTO items (id, thread_id, user_id, created_at, data) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(thread_id, id) DO UPDATE SET data = excluded.data",
            (item.id, thread_id, context.owner, item.created_at.isoformat(), ITEM_ADAPTER.dump_json(item).decode()),
        )
        await db.commit()

    async def load_item(self, thread_id, item_id, context):
        db = await self.db()
        async with db.execute(
            "SELECT data FROM items WHERE thread_id = ? AND id = ? AND user_id = ?",
            (thread_id, item_id, context.owner),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(item_id)
        return ITEM_ADAPTER.validate_json(row[0])

    async def delete_thread_item(self, thread_id, item_id, context):
        db = await self.db()
        await db.execute(
            "DELETE FROM items WHERE thread_id = ? AND id = ? AND user_id = ?", (thread_id, item_id, context.owner)
        )
        await db.commit()

    async def save_attachment(self, attachment, context):
        db = await self.db()
        await db.execute(
            "INSERT INTO attachments (id, user_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
            (attachment.id, context.owner, ATTACHMENT_ADAPTER.dump_json(attachment).decode()),
        )
        await db.commit()

    async def load_attachment(self, attachment_id, context):
        db = await self.db()
        async with db.execute(
            "SELECT data FROM attachments WHERE id = ? AND user_id = ?", (attachment_id, context.owner)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(attachment_id)
        return ATTACHMENT_ADAPTER.validate_json(row[0])

    async def delete_attachment(self, attachment_id, context):
        db = await self.db()
        await db.execute("DELETE FROM attachments WHERE id = ?", (attachment_id,))
        await db.commit()
