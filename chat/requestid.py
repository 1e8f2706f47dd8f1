"""A request id for every request, in its log lines and in its response.

:class:`RequestIdMiddleware` takes the reverse proxy's ``X-Request-ID`` when it
is a sane token (at most 64 of ``A-Z a-z 0-9 . _ -``), else makes one (32 hex
digits), keeps it in a context variable for the rest of the request (the
streamed answer and its worker threads included: ``asgiref`` copies the
context into them) and sends it back as ``X-Request-ID``. It also writes one
``chat.request`` log line per request (method, path, status, milliseconds).

:class:`RequestIdFilter` puts the id on every log record as ``request_id``
(``"-"`` outside a request), so the ``error`` events' log lines of a turn
carry the id of the request that streamed them.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
access_log = logging.getLogger("chat.request")


def incoming_id(value: str | None) -> str:
    """The proxy's id when it is a sane token, else a new one (32 hex digits)."""
    if value and _SANE.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Sets :data:`request_id` for the request, answers it as ``X-Request-ID``, logs the request.

    Async-capable, so the chain stays async under ASGI (no thread hop). Put
    it first in ``MIDDLEWARE`` so every other middleware's log lines carry it.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        started = self._start(request)
        return self._finish(request, self.get_response(request), started)

    async def __acall__(self, request):
        started = self._start(request)
        return self._finish(request, await self.get_response(request), started)

    @staticmethod
    def _start(request) -> float:
        # Not reset afterwards: the streamed body is produced after this returns,
        # still inside the request's own task and context.
        request.request_id = incoming_id(request.headers.get(HEADER))
        request_id.set(request.request_id)
        return time.perf_counter()

    @staticmethod
    def _finish(request, response, started: float):
        response[HEADER] = request.request_id
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                # Until the headers: a stream goes on after this.
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (the current request's id, or ``"-"``) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True
