"""Who is asking: the per-request context handed to the Store and the server.

The owner key scopes every query (docs/architecture.md, "Owner scoping"). Who
the owner of a request is, is decided in one replaceable place: the function
named by ``CHATKIT_OWNER`` (default :func:`default_owner`: a logged-in user is
``"user:<pk>"``; an anonymous visitor gets a random ``"anon:<token>"`` kept in
their session, so it survives a session key rotation). When an anonymous
visitor logs in, :func:`adopt_anonymous_threads` gives their threads to the user.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string

from .conf import app_settings

ANON_SESSION_KEY = "chatkit_owner"


class KnownThreads:
    """The threads one request has already proven its owner owns (a per-request cache).

    The request check (:mod:`chat.protocol`) reads the thread row once; the
    store then skips its own ownership query for the writes of the turn and
    takes the row for its first ``load_thread`` instead of reading it again.
    Lives exactly as long as its :class:`RequestContext`: nothing here is
    shared between requests or owners.
    """

    __slots__ = ("_owned", "_rows")

    def __init__(self) -> None:
        self._owned: set[str] = set()
        self._rows: dict[str, dict[str, Any]] = {}

    def __contains__(self, thread_id: str) -> bool:
        return thread_id in self._owned

    def add(self, thread_id: str, row: dict[str, Any] | None = None) -> None:
        """Record ``thread_id`` as owned; ``row`` is its stored ThreadMetadata JSON, if read."""
        self._owned.add(thread_id)
        if row is not None:
            self._rows[thread_id] = row

    def discard(self, thread_id: str) -> None:
        """Forget ``thread_id`` (it was deleted, or vanished under us)."""
        self._owned.discard(thread_id)
        self._rows.pop(thread_id, None)

    def take_row(self, thread_id: str) -> dict[str, Any] | None:
        """The row read by the request check, once (a later load reads the database)."""
        return self._rows.pop(thread_id, None)


class TurnState:
    """What one request knows about the turn it runs (a per-request record; :mod:`chat.turns`).

    Attributes:
        id: the claim this request holds on its thread (``Thread.turn_id``), or
            ``None`` when the request runs no turn.
        thread_id: the claimed thread (for ``threads.create``: set once it is created).
        replaced: during a retry, the ids of the old answer's items; they are
            deleted in one transaction with the new answer's first saved item
            (``None`` when nothing waits to be replaced).
        pending: the assistant message being streamed, as far as it got, or ``None``.
        saved_chars: how much of ``pending``'s text a heartbeat saved last.
        gone: the thread was deleted while the turn ran; the turn ends quietly.
    """

    __slots__ = ("id", "thread_id", "replaced", "pending", "saved_chars", "gone")

    def __init__(self) -> None:
        self.id: str | None = None
        self.thread_id: str | None = None
        self.replaced: set[str] | None = None
        self.pending: Any = None
        self.saved_chars = 0
        self.gone = False

    def owns(self, thread_id: str) -> bool:
        """Whether this request's turn runs in ``thread_id``."""
        return self.id is not None and self.thread_id == thread_id


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The ChatKit ``context`` for one request.

    Attributes:
        owner: ``"user:<pk>"``, ``"anon:<token>"`` or whatever a custom
            ``CHATKIT_OWNER`` returns (at most 80 characters); every row is filtered by it.
        user_id: the Django user's primary key, or ``None`` for an anonymous visitor.
        extra: read-only values a custom owner function or a test wants the
            agent's tools to see (``ctx.context.request_context.extra``).
        known_threads: the per-request ownership cache (:class:`KnownThreads`).
        turn: the turn this request runs, if any (:class:`TurnState`).
    """

    owner: str
    user_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    known_threads: KnownThreads = field(default_factory=KnownThreads, repr=False, compare=False)
    turn: TurnState = field(default_factory=TurnState, repr=False, compare=False)


def default_owner(request) -> RequestContext:
    """The default ``CHATKIT_OWNER``: the logged-in user, else the session's anonymous owner.

    Sync (it may touch the session): call it in a worker thread. An
    anonymous visitor gets a fresh owner token in their session on first
    contact; the session middleware then sets the cookie on the response.
    The chat page calls this too: it then fires several ``/chatkit``
    requests at once, and were the token made on the first of those, each
    could mint its own and the visitor would be split across owners.
    """
    user = request.user
    if user.is_authenticated:
        return RequestContext(owner=user_owner(user.pk), user_id=user.pk)
    token = request.session.get(ANON_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(18)
        request.session[ANON_SESSION_KEY] = token
    return RequestContext(owner=f"anon:{token}")


def user_owner(user_pk: Any) -> str:
    """The owner key of a Django user: ``"user:<pk>"``."""
    return f"user:{user_pk}"


@cache
def _owner_function(path: str) -> Callable[[Any], RequestContext]:
    return import_string(path)


def request_context(request) -> RequestContext:
    """The :class:`RequestContext` of a Django request, from the ``CHATKIT_OWNER`` function.

    Sync; call it in a worker thread. Raises ``TypeError`` if the function
    returns something other than a :class:`RequestContext`.
    """
    context = _owner_function(app_settings.CHATKIT_OWNER)(request)
    if not isinstance(context, RequestContext):
        raise TypeError(
            f"CHATKIT_OWNER={app_settings.CHATKIT_OWNER!r} returned {type(context).__name__}, "
            "not chat.context.RequestContext"
        )
    return context


def adopt_anonymous_threads(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: an anonymous visitor's threads become the user's.

    Django's ``login()`` keeps the session's data when it rotates the key, so
    the visitor's ``anon:<token>`` is still there; every thread, item,
    attachment and feedback row of that owner moves to ``"user:<pk>"`` in one
    transaction, and the token is dropped from the session. Connected in
    ``ChatConfig.ready()`` (Django docs, "Login and logout signals").
    """
    if request is None or not hasattr(request, "session"):
        return
    token = request.session.pop(ANON_SESSION_KEY, None)
    if not token:
        return
    from . import models

    anon, owner = f"anon:{token}", user_owner(user.pk)
    with transaction.atomic():
        models.Thread.objects.owned_by(anon).update(owner=owner, user_id=user.pk)
        for model in (models.Item, models.Attachment, models.Feedback):
            model.objects.owned_by(anon).update(owner=owner)
