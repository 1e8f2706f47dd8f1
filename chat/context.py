"""Who is asking: the per-request context handed to the Store and the server.

The owner key scopes every query (DESIGN.md, "Security model"): a logged-in
user is ``"user:<pk>"``; an anonymous visitor gets a random ``"anon:<token>"``
kept in their session, so it survives a session key rotation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

ANON_SESSION_KEY = "chatkit_owner"


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The ChatKit ``context`` for one request.

    Attributes:
        owner: ``"user:<pk>"`` or ``"anon:<token>"``; every row is filtered by it.
        user_id: the Django user's primary key, or ``None`` for an anonymous visitor.
        extra: free-form values a view or a test wants the server to see.
        owned_threads: thread ids this request has already proven to own; the
            store fills it so that the writes of a turn skip the ownership query.
        prefetched_threads: thread JSON the view already read while checking
            the request; the store's first ``load_thread`` takes it from here
            instead of querying again (each entry is used once).
    """

    owner: str
    user_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    owned_threads: set[str] = field(default_factory=set, repr=False, compare=False)
    prefetched_threads: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)


def request_context(request) -> RequestContext:
    """Build the :class:`RequestContext` of a Django request (sync; call it in a worker thread).

    An anonymous visitor gets a fresh owner token in their session on first
    contact; the session middleware then sets the cookie on the response.
    The chat page calls this too: it then fires several ``/chatkit``
    requests at once, and were the token made on the first of those, each
    could mint its own and the visitor would be split across owners.
    """
    user = request.user
    if user.is_authenticated:
        return RequestContext(owner=f"user:{user.pk}", user_id=user.pk)
    token = request.session.get(ANON_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(18)
        request.session[ANON_SESSION_KEY] = token
    return RequestContext(owner=f"anon:{token}")
