"""The ChatKit ``Store`` over the Django models (the ``AttachmentStore`` is in :mod:`chat.attachments`).

Contract (openai-chatkit 1.6, ``chatkit.store.Store``; the rules are in
docs/architecture.md, "Rules"):

* Each public method is one synchronous function behind one
  ``sync_to_async`` hop, and most of them are one SQL statement.
* ``save_thread``, ``save_item``, ``add_thread_item`` and ``save_attachment``
  are upserts: the SDK saves the same workflow item twice and re-saves
  attachments once they have a thread id.
* Rows keep the SDK model's JSON; a ``Thread`` handed in with ``items`` is
  stored as its ``ThreadMetadata`` fields only.
* Naive datetimes (the SDK stamps ``datetime.now()``) are made aware in the
  current time zone before they reach a ``DateTimeField``.
* Items are ordered by the ``seq`` column (insertion order), never by time.
* Every query is scoped to ``context.owner``; another owner's thread, item or
  attachment raises ``NotFoundError`` exactly like a missing one.
* Turns (:mod:`chat.turns`): writes of a turn whose thread was deleted
  meanwhile are dropped and mark the turn gone (a deleted thread never comes
  back); a thread is created only by the request that makes it. During a
  retry the old answer is deleted in one transaction with the new answer's
  first saved item, and hidden from the turn's reads until then.
* Titles are cut to ``CHATKIT_MAX_TITLE_CHARS``, in the column and the JSON.
* Paging: ``after`` is the id of the last row of the previous page; a page
  holds up to ``limit`` rows strictly after it in ``order`` ("asc"/"desc"),
  ``has_more`` says whether more follow, and ``Page.after`` is the id of the
  page's last row when they do (``None`` otherwise).
* Threads list by last activity (``updated_at``, then ``seq``) when
  ``CHATKIT_THREAD_ORDER`` is ``"activity"`` (the default), else by creation
  (``seq``). A new item moves its thread's ``updated_at`` (one ``UPDATE`` in
  the same hop as the item's ``INSERT``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from chatkit.store import NotFoundError, Store, StoreItemType
from chatkit.types import (
    Attachment,
    Page,
    Thread as ThreadWithItems,
    ThreadItem,
    ThreadMetadata,
)
from django.db import IntegrityError, connections, transaction
from django.db.models import Q, Subquery
from django.utils import timezone
from pydantic import TypeAdapter

from . import models
from .compat import reusable_sql, upsert
from .conf import app_settings
from .context import RequestContext
from .threads import item_text

# Built once per process: building a TypeAdapter costs milliseconds.
ITEM_ADAPTER: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)
ATTACHMENT_ADAPTER: TypeAdapter[Attachment] = TypeAdapter(Attachment)

# Items a turn writes for the model alone: they don't replace a retried answer.
HIDDEN_ITEM_TYPES = frozenset({"hidden_context_item", "sdk_hidden_context"})

# Longer than the SDK's default 8 hex digits (32 bits): 128 random bits.
ID_PREFIXES: dict[str, str] = {
    "thread": "thr",
    "message": "msg",
    "tool_call": "tc",
    "workflow": "wf",
    "task": "tsk",
    "attachment": "atc",
    "sdk_hidden_context": "shcx",
}


def new_id(kind: str) -> str:
    """Return ``"<prefix>_<32 hex digits>"`` for a ``StoreItemType`` (or "attachment")."""
    return f"{ID_PREFIXES.get(kind, kind)}_{uuid.uuid4().hex}"


def aware(value: datetime) -> datetime:
    """Return ``value`` as an aware datetime (naive values are in the current zone)."""
    if timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def dump_item(item: ThreadItem) -> dict[str, Any]:
    """The JSON-ready dict of an item, with an aware ``created_at``."""
    data = ITEM_ADAPTER.dump_python(item, mode="json")
    data["created_at"] = aware(item.created_at).isoformat()
    return data


def dump_thread(thread: ThreadMetadata) -> dict[str, Any]:
    """The JSON-ready dict of a thread's metadata (a ``Thread``'s ``items`` dropped)."""
    data = thread.model_dump(mode="json", exclude={"items"} if isinstance(thread, ThreadWithItems) else None)
    data["created_at"] = aware(thread.created_at).isoformat()
    return data


# (database alias, vendor, limit) -> the SQL of DjangoStore._newest_items, compiled once.
_NEWEST_ITEMS_SQL: dict[tuple[str, str, int], str] = {}


def _item_from_column(raw: str | bytes | dict) -> ThreadItem:
    """An item from its ``data`` column as the cursor returns it (JSON text with Django's backends)."""
    return ITEM_ADAPTER.validate_json(raw) if isinstance(raw, (str, bytes)) else ITEM_ADAPTER.validate_python(raw)


def _page(rows: list, limit: int, to_model) -> Page:
    """Cut ``limit + 1`` fetched rows into a ``Page`` (``rows`` already ordered)."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        data=[to_model(row) for row in rows],
        has_more=has_more,
        after=rows[-1].id if has_more and rows else None,
    )


def _ordered(queryset, order: str, after_seq: Subquery | None):
    """Order a queryset by ``seq`` in ``order`` and keep the rows after the cursor."""
    if order not in ("asc", "desc"):
        raise ValueError(f"order must be 'asc' or 'desc', not {order!r}")
    if after_seq is not None:
        lookup = "seq__gt" if order == "asc" else "seq__lt"
        queryset = queryset.filter(**{lookup: after_seq})
    return queryset.order_by("seq" if order == "asc" else "-seq")


def _by_activity(queryset, order: str, after: str | None):
    """Order threads by (``updated_at``, ``seq``) in ``order``, keeping those after thread ``after``.

    A keyset cursor on both columns: threads that share a timestamp keep a
    fixed order, so paging neither repeats nor skips one (unless a thread has
    new activity meanwhile, which moves it to the front).
    """
    if order not in ("asc", "desc"):
        raise ValueError(f"order must be 'asc' or 'desc', not {order!r}")
    if after:
        cursor = queryset.filter(id=after)
        at = Subquery(cursor.values("updated_at")[:1])
        seq = Subquery(cursor.values("seq")[:1])
        if order == "asc":
            queryset = queryset.filter(Q(updated_at__gt=at) | Q(updated_at=at, seq__gt=seq))
        else:
            queryset = queryset.filter(Q(updated_at__lt=at) | Q(updated_at=at, seq__lt=seq))
    fields = ("updated_at", "seq") if order == "asc" else ("-updated_at", "-seq")
    return queryset.order_by(*fields)


class DjangoStore(Store[RequestContext]):
    """``chatkit.store.Store`` backed by :mod:`chat.models`, scoped by ``RequestContext.owner``.

    Raises ``chatkit.store.NotFoundError`` for a thread, item or attachment
    that is missing or belongs to another owner.
    """

    def generate_thread_id(self, context: RequestContext) -> str:
        return new_id("thread")

    def generate_item_id(self, item_type: StoreItemType, thread: ThreadMetadata, context: RequestContext) -> str:
        return new_id(item_type)

    # --- ownership --------------------------------------------------------

    @staticmethod
    def _require_thread(thread_id: str, context: RequestContext) -> None:
        """Raise ``NotFoundError`` unless ``context.owner`` owns ``thread_id`` (cached per request)."""
        if thread_id in context.known_threads:
            return
        if not models.Thread.objects.owned_by(context.owner).filter(id=thread_id).exists():
            raise NotFoundError(f"Thread {thread_id} not found")
        context.known_threads.add(thread_id)

    # --- threads ----------------------------------------------------------

    @staticmethod
    def _to_thread(row: models.Thread) -> ThreadMetadata:
        return ThreadMetadata.model_validate(row.data)

    def _load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        row = models.Thread.objects.owned_by(context.owner).filter(id=thread_id).only("data").first()
        if row is None:
            raise NotFoundError(f"Thread {thread_id} not found")
        context.known_threads.add(thread_id)
        return self._to_thread(row)

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        prefetched = context.known_threads.take_row(thread_id)
        if prefetched is not None:  # read moments ago by the view's request check
            return ThreadMetadata.model_validate(prefetched)
        return await sync_to_async(self._load_thread)(thread_id, context)

    def _save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        turn = context.turn
        if turn.gone and turn.owns(thread.id):
            return
        data = dump_thread(thread)
        title = (thread.title or "")[: app_settings.CHATKIT_MAX_TITLE_CHARS]
        if thread.title:
            data["title"] = title
        fields = {
            "title": title,
            "status": thread.status.type,
            "data": data,
            "updated_at": timezone.now(),
        }
        # Update first: after the first turn a thread is only ever updated.
        if models.Thread.objects.owned_by(context.owner).filter(id=thread.id).update(**fields):
            context.known_threads.add(thread.id)
            return
        if thread.id in context.known_threads:
            # It existed earlier in this request, so it was deleted since: deleting wins.
            context.known_threads.discard(thread.id)
            if turn.owns(thread.id):
                turn.gone = True
                return
            raise NotFoundError(f"Thread {thread.id} not found")
        claim = {}
        if turn.id and turn.thread_id is None:  # threads.create: the thread is born claimed by its turn
            claim = {"turn_id": turn.id, "turn_heartbeat_at": timezone.now()}
        try:
            with transaction.atomic():
                models.Thread.objects.create(
                    id=thread.id,
                    owner=context.owner,
                    user_id=context.user_id,
                    created_at=aware(thread.created_at),
                    **fields,
                    **claim,
                )
        except IntegrityError:
            # The id exists under another owner: theirs, and not ours to overwrite.
            raise NotFoundError(f"Thread {thread.id} not found") from None
        context.known_threads.add(thread.id)
        if claim:
            turn.thread_id = thread.id

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        await sync_to_async(self._save_thread)(thread, context)

    def _load_threads(self, limit: int, after: str | None, order: str, context: RequestContext) -> Page[ThreadMetadata]:
        mine = models.Thread.objects.owned_by(context.owner)
        if app_settings.CHATKIT_THREAD_ORDER == "activity":
            rows = list(_by_activity(mine, order, after).only("id", "data")[: limit + 1])
        else:
            after_seq = Subquery(mine.filter(id=after).values("seq")[:1]) if after else None
            rows = list(_ordered(mine, order, after_seq).only("id", "data")[: limit + 1])
        return _page(rows, limit, self._to_thread)

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: RequestContext
    ) -> Page[ThreadMetadata]:
        return await sync_to_async(self._load_threads)(limit, after, order, context)

    def _delete_thread(self, thread_id: str, context: RequestContext) -> None:
        with transaction.atomic():
            thread = models.Thread.objects.owned_by(context.owner).filter(id=thread_id).first()
            if thread is None:
                raise NotFoundError(f"Thread {thread_id} not found")
            files = [
                name
                for name in models.Attachment.objects.filter(thread_id=thread_id).values_list("file", flat=True)
                if name
            ]
            models.Feedback.objects.filter(thread_id=thread_id).delete()
            models.Attachment.objects.filter(thread_id=thread_id).delete()
            models.Item.objects.filter(thread_id=thread_id).delete()
            thread.delete()
            # The bytes go only once the rows are surely gone.
            transaction.on_commit(lambda: delete_files(files))
        context.known_threads.discard(thread_id)

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        await sync_to_async(self._delete_thread)(thread_id, context)

    # --- items ------------------------------------------------------------

    @staticmethod
    def _to_item(row: models.Item) -> ThreadItem:
        return ITEM_ADAPTER.validate_python(row.data)

    def _load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: RequestContext
    ) -> Page[ThreadItem]:
        self._require_thread(thread_id, context)
        turn = context.turn
        replacing = bool(turn.replaced) and turn.owns(thread_id)
        if after is None and order == "desc" and not replacing:
            return self._newest_items(thread_id, limit, context)
        items = models.Item.objects.owned_by(context.owner).filter(thread_id=thread_id)
        if replacing:  # a retry's old answer, on its way out
            items = items.exclude(id__in=turn.replaced)
        after_seq = Subquery(items.filter(id=after).values("seq")[:1]) if after else None
        rows = list(_ordered(items, order, after_seq).only("id", "data")[: limit + 1])
        return _page(rows, limit, self._to_item)

    def _newest_items(self, thread_id: str, limit: int, context: RequestContext) -> Page[ThreadItem]:
        """The thread's ``limit`` newest items, newest first: what every turn reads, so kept cheap.

        The ORM's SQL for it is compiled once per database and ``limit``
        (:func:`chat.compat.reusable_sql`; compiling cost more than running it),
        and the rows' JSON goes straight to pydantic (``validate_json``), without
        model instances or a ``json.loads`` in between. Within a turn, the newest
        two items are kept until the next write to the thread: the SDK reads them
        again as the answer starts (chatkit 1.6 ``stream_agent_response``, to
        continue a workflow), and :class:`~chat.context.TurnState` ``newest`` answers that.
        """
        kept = self._kept_newest(thread_id, limit, context)
        if kept is not None:
            return kept
        turn = context.turn
        mine = turn.owns(thread_id)
        connection = connections[models.Item.objects.db]
        key = (connection.alias, connection.vendor, limit)
        sql = _NEWEST_ITEMS_SQL.get(key)
        params = [context.owner, thread_id]
        if sql is None:
            query = models.Item.objects.owned_by(context.owner).filter(thread_id=thread_id).order_by("-seq")
            sql = reusable_sql(query.values_list("id", "data")[: limit + 1], params)
            if sql is None:  # a custom owned_by with parameters of its own: leave it to the ORM
                rows = list(query.only("id", "data")[: limit + 1])
                return _page(rows, limit, self._to_item)
            _NEWEST_ITEMS_SQL[key] = sql
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        has_more = len(rows) > limit
        data = [_item_from_column(raw) for _, raw in rows[:limit]]
        if mine:
            turn.newest = (data[:2], not has_more and len(data) <= 2)
        return Page(data=data, has_more=has_more, after=data[-1].id if has_more and data else None)

    @staticmethod
    def _kept_newest(thread_id: str, limit: int, context: RequestContext) -> Page[ThreadItem] | None:
        """The newest ``limit`` items from the turn's own history read, if it kept enough of them; else ``None``.

        Serves one read (the SDK's, see :meth:`_newest_items`), then forgets
        them. No query, so safe on the event loop: the turn's thread was proven
        its owner's by the read that kept them, and any write since cleared them.
        """
        turn = context.turn
        if turn.newest is None or not turn.owns(thread_id):
            return None
        kept, complete = turn.newest
        if limit > len(kept) and not complete:
            return None
        turn.newest = None  # once: the SDK's read is the only one it serves
        data = kept[:limit]
        has_more = len(kept) > limit or not complete
        return Page(data=data, has_more=has_more, after=data[-1].id if has_more and data else None)

    def read_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: RequestContext
    ) -> Page[ThreadItem]:
        """What :meth:`load_thread_items` runs in its worker-thread hop (sync; for a caller already in a worker)."""
        return self._load_thread_items(thread_id, after, limit, order, context)

    async def load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadItem]:
        if after is None and order == "desc" and not context.turn.replaced:
            kept = self._kept_newest(thread_id, limit, context)  # the SDK's re-read at the answer's start: no hop
            if kept is not None:
                return kept
        return await sync_to_async(self._load_thread_items)(thread_id, after, limit, order, context)

    def _upsert_item(self, thread_id: str, item: ThreadItem, context: RequestContext, *, new: bool = False) -> None:
        turn = context.turn
        mine = turn.owns(thread_id)
        if mine and turn.gone:
            return
        self._require_thread(thread_id, context)
        if mine:
            turn.newest = None  # the thread's newest items change
        row = models.Item(
            id=item.id,
            thread_id=thread_id,
            owner=context.owner,
            type=item.type,
            created_at=aware(item.created_at),
            text=item_text(item),
            data=dump_item(item),
        )
        replacing = mine and turn.replaced is not None and item.type not in HIDDEN_ITEM_TYPES
        try:
            if replacing and turn.replaced:
                with transaction.atomic():  # the old answer goes exactly when the new one arrives
                    models.Item.objects.owned_by(context.owner).filter(
                        thread_id=thread_id, id__in=turn.replaced
                    ).delete()
                    upsert(row, unique_fields=["thread", "id"], update_fields=["type", "text", "data"])
            else:
                upsert(row, unique_fields=["thread", "id"], update_fields=["type", "text", "data"])
        except IntegrityError:
            # The thread vanished between the ownership check and the write.
            context.known_threads.discard(thread_id)
            if mine:  # deleted during its own turn: drop the write, the turn ends quietly
                turn.gone = True
                return
            raise NotFoundError(f"Thread {thread_id} not found") from None
        if replacing:
            turn.replaced = None
        if new and not mine:  # last activity follows every new item (a turn's claim and release stamp it)
            models.Thread.objects.filter(id=thread_id).update(updated_at=timezone.now())

    def write_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        """What :meth:`save_item` runs in its worker-thread hop (sync; for a caller already in a worker)."""
        self._upsert_item(thread_id, item, context)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        if item is context.turn.user_message:  # saved with the turn's claim (ChatServer.save_user_message)
            context.turn.user_message = None
            return
        await sync_to_async(self._upsert_item)(thread_id, item, context, new=True)

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        await sync_to_async(self._upsert_item)(thread_id, item, context)

    def _load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        row = models.Item.objects.owned_by(context.owner).filter(thread_id=thread_id, id=item_id).only("data").first()
        if row is None:
            raise NotFoundError(f"Item {item_id} not found in thread {thread_id}")
        return self._to_item(row)

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        return await sync_to_async(self._load_item)(thread_id, item_id, context)

    def _delete_thread_item(self, thread_id: str, item_id: str, context: RequestContext) -> None:
        turn = context.turn
        if turn.owns(thread_id):
            turn.newest = None  # the thread's newest items change
            if turn.replaced is not None:
                turn.replaced.add(item_id)  # a retry: deleted with the new answer's first item
                return
        deleted, _ = models.Item.objects.owned_by(context.owner).filter(thread_id=thread_id, id=item_id).delete()
        if not deleted:
            raise NotFoundError(f"Item {item_id} not found in thread {thread_id}")

    async def delete_thread_item(self, thread_id: str, item_id: str, context: RequestContext) -> None:
        await sync_to_async(self._delete_thread_item)(thread_id, item_id, context)

    # --- attachments (metadata) -------------------------------------------

    def _save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        data = ATTACHMENT_ADAPTER.dump_python(attachment, mode="json")
        if attachment.thread_id:
            self._require_thread(attachment.thread_id, context)
        fields = {
            "name": attachment.name[:255],
            "mime_type": attachment.mime_type[:255],
            "thread_id": attachment.thread_id,
            "data": data,
        }
        size = (attachment.metadata or {}).get("size")
        if isinstance(size, int):
            fields["size"] = size
        if models.Attachment.objects.owned_by(context.owner).filter(id=attachment.id).update(**fields):
            return
        try:
            with transaction.atomic():
                models.Attachment.objects.create(id=attachment.id, owner=context.owner, **fields)
        except IntegrityError:
            raise NotFoundError(f"Attachment {attachment.id} not found") from None

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        await sync_to_async(self._save_attachment)(attachment, context)

    def _load_attachment(self, attachment_id: str, context: RequestContext) -> Attachment:
        row = models.Attachment.objects.owned_by(context.owner).filter(id=attachment_id).only("data").first()
        if row is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        return ATTACHMENT_ADAPTER.validate_python(row.data)

    async def load_attachment(self, attachment_id: str, context: RequestContext) -> Attachment:
        return await sync_to_async(self._load_attachment)(attachment_id, context)

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        await sync_to_async(delete_attachment_row)(attachment_id, context)


def delete_attachment_row(attachment_id: str, context: RequestContext) -> None:
    """Delete an attachment's row and, after commit, any bytes it still has.

    Raises ``NotFoundError`` when it is missing or another owner's.
    """
    with transaction.atomic():
        row = models.Attachment.objects.owned_by(context.owner).filter(id=attachment_id).first()
        if row is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        name = row.file.name
        row.delete()
        transaction.on_commit(lambda: delete_files([name] if name else []))


def save_feedback(thread_id: str, item_ids: list[str], kind: str, context: RequestContext) -> None:
    """Upsert one :class:`chat.models.Feedback` row per item, in one statement."""
    ids = set(item_ids)
    found = models.Item.objects.owned_by(context.owner).filter(thread_id=thread_id, id__in=ids).count()
    if found != len(ids):
        raise NotFoundError(f"Item not found in thread {thread_id}")
    models.Feedback.objects.bulk_create(
        [models.Feedback(thread_id=thread_id, item_id=i, owner=context.owner, kind=kind) for i in ids],
        update_conflicts=True,
        unique_fields=["thread", "item_id"],
        update_fields=["kind", "created_at"],
    )


def delete_files(names: list[str]) -> None:
    """Remove stored attachment files by name from the default storage (missing ones are skipped)."""
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)
