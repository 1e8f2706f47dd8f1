"""Every error answer from ``POST /chatkit`` is JSON, whatever was sent and whatever failed.

ChatKit clients read ``{"error": {"code", "message"}}`` from a failed request;
an HTML error page is noise to them. Two things stand between a request and
the view that answers in JSON (:mod:`chat.views`), and this middleware covers
both:

* a form or multipart body: Django's CSRF middleware parses it (to look for a
  form token), and a multipart body without a boundary, too many fields or
  too many bytes fail there with an HTML 400. ``/chatkit`` takes JSON only,
  so such a body is refused first, with 415 ``unsupported_media_type``;
* any other error answer that isn't JSON (a 500 page, ``DEBUG``'s technical
  pages, another middleware's refusal) is replaced by a JSON one with the same status.

Add it first in ``MIDDLEWARE`` (outermost), so it sees every answer.
"""

from __future__ import annotations

from functools import lru_cache
from http import HTTPStatus

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.decorators import sync_and_async_middleware

FORM_CONTENT_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


def chatkit_path() -> str:
    """``reverse("chat:chatkit")``, computed once per URLconf and script prefix (a reverse costs ~0.1 ms a request).

    Raises ``NoReverseMatch`` when the project doesn't include ``chat.urls``.
    """
    return _chatkit_path(settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())


@lru_cache(maxsize=16)
def _chatkit_path(root_urlconf, urlconf, prefix) -> str:
    return reverse("chat:chatkit", urlconf=urlconf)


def _is_chatkit(request) -> bool:
    return request.path == chatkit_path()


def _refusal(request):
    """A 415 for a form body sent to ``/chatkit`` (before anything parses it), else ``None``."""
    from .views import error_response

    if request.content_type in FORM_CONTENT_TYPES:
        return error_response(
            415, "unsupported_media_type", "Send the request body as JSON (Content-Type: application/json)."
        )
    return None


def _as_json(response):
    """``response``, or a JSON error with its status when it is an error answer that isn't JSON."""
    from .views import error_response

    if response.status_code < 400 or response.get("Content-Type", "").startswith("application/json"):
        return response
    try:
        status = HTTPStatus(response.status_code)
        code, message = status.phrase.lower().replace(" ", "_").replace("-", "_"), f"{status.phrase}."
    except ValueError:
        code, message = "error", "The request failed."
    json_response = error_response(response.status_code, code, message)
    for header in ("Allow", "Retry-After"):
        if header in response:
            json_response[header] = response[header]
    return json_response


@sync_and_async_middleware
def chatkit_json_errors(get_response):
    """Middleware: JSON error answers on ``/chatkit`` (see the module docstring)."""
    if iscoroutinefunction(get_response):

        async def middleware(request):
            if not _is_chatkit(request):
                return await get_response(request)
            return _refusal(request) or _as_json(await get_response(request))

    else:

        def middleware(request):
            if not _is_chatkit(request):
                return get_response(request)
            return _refusal(request) or _as_json(get_response(request))

    return middleware
