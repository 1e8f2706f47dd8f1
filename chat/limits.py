"""Rate limits and quotas: what one owner, and one client address, may ask for.

Counted over Django's cache with django-ratelimit's core (``get_usage``: fixed
windows, atomic ``incr``), so the limits hold across processes once the cache is
shared (Redis). Every limit is counted twice, per owner and per client address,
so minting new anonymous owners escapes nothing (docs/architecture.md, "Limits"):

==============================  ========================================  =================
setting                         counts                                    key
==============================  ========================================  =================
``CHATKIT_TURNS_PER_MINUTE``    streaming requests (messages, retries,     owner, address
                                actions, tool outputs)
``CHATKIT_THREADS_PER_HOUR``    ``threads.create``                         owner, address
``CHATKIT_CONCURRENT_STREAMS``  answers streaming at the same time         owner
``CHATKIT_NEW_OWNERS_PER_HOUR`` anonymous owners minted                    address
==============================  ========================================  =================

A value of 0 turns a limit off. Over a limit, :class:`RateLimited` is raised
and the view answers 429 ``rate_limited`` with ``Retry-After``, before anything
streams. The address is ``REMOTE_ADDR`` as the ASGI server reports it (behind a
proxy, let the server take it from the proxy's header: uvicorn's
``--proxy-headers --forwarded-allow-ips``); IPv6 addresses count per /64.
"""

from __future__ import annotations

import ipaddress

from chatkit.types import ChatKitReq, ThreadsCreateReq, is_streaming_req
from django.core.cache import cache
from django_ratelimit.core import get_usage

from .conf import app_settings
from .context import RequestContext

STREAM_SLOT_SECONDS = 3600
"""How long a stream's slot may stay counted if its release never runs (a killed process)."""


class RateLimited(Exception):
    """A request over one of the limits (answered with 429 ``rate_limited``).

    Attributes:
        message: what happened and when to try again, for a person.
        retry_after: whole seconds until the limit lets the request through (>= 1).
    """

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, int(retry_after))


def _count(request, group: str, key: str, limit: int, period: str) -> int | None:
    """Count one hit of ``group`` for ``key`` against ``limit`` per ``period`` ("m" or "h").

    Returns the seconds until the window ends when the limit is exceeded, else ``None``.
    """
    usage = get_usage(request, group=group, key=lambda _group, _request: key, rate=f"{limit}/{period}", increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    return usage["time_left"] if usage["time_left"] > 0 else 60


def client_address(request) -> str:
    """The client's address as counted: ``REMOTE_ADDR``, an IPv6 address as its /64 network.

    One IPv6 host usually holds a whole /64, so counting single addresses would
    let it rotate through them (django-ratelimit's ``ip`` key does the same).
    """
    address = request.META.get("REMOTE_ADDR") or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


def _per_owner_and_address(request, context: RequestContext, group: str, limit: int, period: str) -> int | None:
    if limit <= 0:
        return None
    waits = [
        _count(request, f"chat.{group}.owner", context.owner, limit, period),
        _count(request, f"chat.{group}.address", client_address(request), limit, period),
    ]
    waits = [w for w in waits if w is not None]
    return max(waits) if waits else None


def check_limits(request, context: RequestContext, parsed: ChatKitReq) -> None:
    """Count ``parsed`` against the turn and thread limits of its owner and address.

    Sync (the cache API): call it in the view's worker-thread hop. Requests
    that don't stream (lists, renames, feedback) are not counted.

    Raises:
        RateLimited: a limit is exceeded; nothing was started.
    """
    if not is_streaming_req(parsed):
        return
    wait = _per_owner_and_address(request, context, "turns", app_settings.CHATKIT_TURNS_PER_MINUTE, "m")
    if wait is not None:
        limit = app_settings.CHATKIT_TURNS_PER_MINUTE
        raise RateLimited(f"Too many messages: at most {limit} a minute. Try again in {wait} s.", wait)
    if isinstance(parsed, ThreadsCreateReq):
        wait = _per_owner_and_address(request, context, "threads", app_settings.CHATKIT_THREADS_PER_HOUR, "h")
        if wait is not None:
            limit = app_settings.CHATKIT_THREADS_PER_HOUR
            raise RateLimited(
                f"Too many new conversations: at most {limit} an hour. Try again in {_minutes(wait)}.", wait
            )


def count_new_owner(request) -> None:
    """Count one new anonymous owner for the request's address (``CHATKIT_NEW_OWNERS_PER_HOUR``).

    Raises ``RateLimited`` when the address has minted too many this hour.
    """
    limit = app_settings.CHATKIT_NEW_OWNERS_PER_HOUR
    if limit <= 0:
        return
    wait = _count(request, "chat.new_owners.address", client_address(request), limit, "h")
    if wait is not None:
        raise RateLimited(
            f"Too many new visitors from your network: at most {limit} an hour. Try again in {_minutes(wait)}.", wait
        )


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{round(seconds / 60)} minutes"


class StreamSlot:
    """One of an owner's ``CHATKIT_CONCURRENT_STREAMS`` slots, held while an answer streams.

    :meth:`acquire` takes it (or raises ``RateLimited``); :meth:`release` gives
    it back and may be called any number of times (the stream's end, a cut
    connection and the response's close all call it). A slot whose release
    never runs (the process died) expires after :data:`STREAM_SLOT_SECONDS`.
    """

    def __init__(self, owner: str):
        self.key = f"chat:streams:{owner}"
        self.held = False

    @classmethod
    def acquire(cls, context: RequestContext) -> StreamSlot | None:
        """Take a slot for ``context.owner``; ``None`` when the limit is off.

        Raises ``RateLimited`` when every slot is taken.
        """
        limit = app_settings.CHATKIT_CONCURRENT_STREAMS
        if limit <= 0:
            return None
        slot = cls(context.owner)
        cache.add(slot.key, 0, STREAM_SLOT_SECONDS)
        try:
            count = cache.incr(slot.key)
        except ValueError:  # expired between add and incr
            cache.add(slot.key, 1, STREAM_SLOT_SECONDS)
            count = 1
        cache.touch(slot.key, STREAM_SLOT_SECONDS)
        slot.held = True
        if count > limit:
            slot.release()
            raise RateLimited(
                f"Too many answers at once: at most {limit} at a time. Wait for one to finish or stop it.", 5
            )
        return slot

    def release(self) -> None:
        """Give the slot back (idempotent)."""
        if not self.held:
            return
        self.held = False
        try:
            if cache.decr(self.key) < 0:
                cache.set(self.key, 0, STREAM_SLOT_SECONDS)
        except ValueError:  # the key expired meanwhile: nothing to give back
            pass


def retry_after(seconds: int) -> str:
    """The ``Retry-After`` header value for ``seconds`` (whole seconds, at least 1)."""
    return str(max(1, int(seconds)))
