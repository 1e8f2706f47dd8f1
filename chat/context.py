"""Who is asking: the per-request context handed to the Store and the server.

The owner key scopes every query (docs/architecture.md, "Owner scoping"). Who
the owner of a request is, is decided in one replaceable place: the function
named by ``CHATKIT_OWNER`` (default :func:`default_owner`: a logged-in user is
``"user:<pk>"``; an anonymous visitor gets a random ``"anon:<token>"`` kept in a
signed cookie, so a visitor costs no database row until they chat). When an
anonymous visitor logs in, :func:`adopt_anonymous_threads` gives their threads to the user.
"""

from __future__ import annotations

import secrets
from asyncio import iscoroutinefunction
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.decorators import sync_and_async_middleware
from django.utils.module_loading import import_string

from .conf import app_settings

ANON_SESSION_KEY = "chatkit_owner"  # where owners minted before the cookie was used live
OWNER_COOKIE = "chatkit_owner"
OWNER_COOKIE_SALT = "chat.context.owner"


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

    def row(self, thread_id: str) -> dict[str, Any] | None:
        """The row read by the request check, if any, leaving it for :meth:`take_row`."""
        return self._rows.get(thread_id)

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
        user_message: the turn's user message, already saved with the claim
            (:meth:`chat.server.ChatServer.save_user_message`), until the SDK takes it.
        newest: ``(items, complete)``: the thread's newest two items (newest
            first) as the turn's history read found them, until the next write
            or the one read they serve (``DjangoStore._newest_items``);
            ``complete`` if they are all the thread has.
        start: the stream's start permit (:mod:`chat.starts`) while it holds one.
    """

    __slots__ = ("id", "thread_id", "replaced", "pending", "saved_chars", "gone", "user_message", "newest", "start")

    def __init__(self) -> None:
        self.id: str | None = None
        self.thread_id: str | None = None
        self.replaced: set[str] | None = None
        self.pending: Any = None
        self.saved_chars = 0
        self.gone = False
        self.user_message: Any = None
        self.newest: tuple[list[Any], bool] | None = None
        self.start: Any = None

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
    """The default ``CHATKIT_OWNER``: the logged-in user, else the visitor's anonymous owner.

    Sync (it may read the session): call it in a worker thread. An anonymous
    visitor's token lives in a signed, HttpOnly cookie (:data:`OWNER_COOKIE`),
    not the session, so a page view writes no session row. A visitor without
    one gets a fresh token, counted against ``CHATKIT_NEW_OWNERS_PER_HOUR`` for
    their address; :func:`remember_owner` then sets the cookie on the response.
    The chat page calls this too: it then fires several ``/chatkit`` requests
    at once, and were the token made on the first of those, each could mint
    its own and the visitor would be split across owners.

    Raises ``chat.limits.RateLimited`` when the address has minted too many owners.
    """
    user = request.user
    if user.is_authenticated:
        return RequestContext(owner=user_owner(user.pk), user_id=user.pk)
    token = anonymous_token(request)
    if not token:
        from .limits import count_new_owner

        count_new_owner(request)
        token = secrets.token_urlsafe(18)
        request.chatkit_new_owner = token
    return RequestContext(owner=f"anon:{token}")


def anonymous_token(request) -> str | None:
    """The anonymous owner token a request carries: its signed cookie, else (older visitors) its session."""
    token = getattr(request, "chatkit_new_owner", None) or request.get_signed_cookie(
        OWNER_COOKIE, default=None, salt=OWNER_COOKIE_SALT
    )
    if not token and request.COOKIES.get(settings.SESSION_COOKIE_NAME):  # read the session only if there is one
        token = request.session.get(ANON_SESSION_KEY)
    return token


def remember_owner(request, response) -> None:
    """Set the owner cookie on ``response`` when :func:`default_owner` minted a token for ``request``.

    Signed (a visitor can't pick another's token), HttpOnly, ``SameSite=Lax``,
    ``Secure`` like the session cookie, kept ``SESSION_COOKIE_AGE`` seconds.
    """
    token = getattr(request, "chatkit_new_owner", None)
    if token:
        response.set_signed_cookie(
            OWNER_COOKIE,
            token,
            salt=OWNER_COOKIE_SALT,
            max_age=settings.SESSION_COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


@sync_and_async_middleware
def owner_cookie_middleware(get_response):
    """Middleware: every response that minted an anonymous owner carries its cookie (:func:`remember_owner`).

    One place for every view that resolves an owner (the page, ``/chatkit``,
    uploads, downloads, item state), so none of them can forget it and split a
    visitor. Async-capable and touches no database, so it adds no thread hop.
    """
    if iscoroutinefunction(get_response):

        async def middleware(request):
            response = await get_response(request)
            remember_owner(request, response)
            return response

    else:

        def middleware(request):
            response = get_response(request)
            remember_owner(request, response)
            return response

    return middleware


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

    The visitor's ``anon:<token>`` is in their owner cookie (or, for older
    visitors, in the session, which ``login()`` keeps); every thread, item,
    attachment, feedback and server tool call row of that owner moves to
    ``"user:<pk>"`` in one transaction. Connected in
    ``ChatConfig.ready()`` (Django docs, "Login and logout signals").
    """
    if request is None or not hasattr(request, "session"):
        return
    token = anonymous_token(request)
    request.session.pop(ANON_SESSION_KEY, None)
    if not token:
        return
    from . import models

    anon, owner = f"anon:{token}", user_owner(user.pk)
    with transaction.atomic():
        models.Thread.objects.owned_by(anon).update(owner=owner, user_id=user.pk)
        for model in (models.Item, models.Attachment, models.Feedback, models.ServerToolCall):
            model.objects.owned_by(anon).update(owner=owner)
