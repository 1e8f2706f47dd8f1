"""Django's built-in middleware, with their phases on the event loop instead of a worker thread.

Under ASGI every ``MiddlewareMixin`` middleware runs each of its phases
(``process_request``, ``process_view``, ``process_response``) in
``sync_to_async``: about 15 worker-thread hops before and after every view,
a good part of the time to a turn's first event. Most of these phases only
read and write the request and response, so these subclasses run them inline
(:class:`chat.compat.InlineHooks`); the phases that can reach the database or
parse a form body keep the hop, only when they would:

* sessions: saving a modified session (or with ``SESSION_SAVE_EVERY_REQUEST``);
  creating the lazy ``request.session`` reads nothing;
* CSRF: a form or multipart body (``request.POST`` parses it), or the secret
  kept in the session (``CSRF_USE_SESSIONS``);
* messages: storing messages that were added or read.

Each class behaves exactly like the one it extends (the same hooks, in the
same order) and is a drop-in replacement in ``MIDDLEWARE``; in sync mode
(WSGI, Django's test ``Client``) nothing changes at all.
"""

from __future__ import annotations

from functools import lru_cache

from asgiref.sync import sync_to_async
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as _CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as _AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as _MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as _SessionMiddleware
from django.middleware.clickjacking import XFrameOptionsMiddleware as _XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware as _CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware as _CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware as _SecurityMiddleware

from .compat import InlineHooks

FORM_CONTENT_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


class SecurityMiddleware(InlineHooks, _SecurityMiddleware):
    """``django.middleware.security.SecurityMiddleware``, on the event loop (headers and redirects only)."""


class CommonMiddleware(InlineHooks, _CommonMiddleware):
    """``django.middleware.common.CommonMiddleware``, on the event loop (URL checks and headers only)."""


class XFrameOptionsMiddleware(InlineHooks, _XFrameOptionsMiddleware):
    """``django.middleware.clickjacking.XFrameOptionsMiddleware``, on the event loop (a header)."""


class AuthenticationMiddleware(InlineHooks, _AuthenticationMiddleware):
    """``django.contrib.auth.middleware.AuthenticationMiddleware``, on the event loop.

    It only attaches the lazy ``request.user`` and ``request.auser``; the user
    is read from the session and the database when first used (in a worker thread).
    """


# What a view or decorator can set on a response to change its policy (django-csp 4).
CSP_RESPONSE_ATTRS = tuple(
    f"_csp_{name}{ro}" for name in ("config", "update", "replace", "exempt") for ro in ("", "_ro")
)


@lru_cache(maxsize=8)
def _settings_policy(setting_repr: str, report_only: bool) -> str:
    return build_policy(report_only=report_only)  # reads the settings the key was made from


class CSPMiddleware(InlineHooks, _CSPMiddleware):
    """``csp.middleware.CSPMiddleware`` (django-csp), on the event loop (a nonce and a header).

    A response whose view changed nothing of the policy, on a request that used
    no nonce (every ``/chatkit`` answer), gets the policy of the settings alone:
    that string is built once per setting value instead of per response
    (~0.1-0.3 ms each). Anything else takes django-csp's own path.
    """

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, a) for a in CSP_RESPONSE_ATTRS):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (500, 404):  # django-csp leaves Django's debug pages alone
            return response
        for header, setting, report_only in (
            (HEADER, "CONTENT_SECURITY_POLICY", False),
            (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
        ):
            config = getattr(settings, setting, None) or {}
            policy = _settings_policy(repr(config), report_only)
            excluded = request.path_info.startswith(tuple(config.get("EXCLUDE_URL_PREFIXES") or ()))
            if policy and header not in response and not excluded:
                response[header] = policy
        # As django-csp does: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


class SessionMiddleware(_SessionMiddleware):
    """``django.contrib.sessions.middleware.SessionMiddleware``: reads and writes nothing until it must.

    ``request.session`` is made on the event loop (a lazy store: a request that
    never reads it costs no query); the response phase runs there too unless
    it saves the session, which goes to the request's worker thread.
    """

    async def __acall__(self, request):
        self.process_request(request)
        response = await self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST) and not session.is_empty():
            return await sync_to_async(self.process_response)(request, response)
        return self.process_response(request, response)


class MessageMiddleware(_MessageMiddleware):
    """``django.contrib.messages.middleware.MessageMiddleware``: the worker thread only when messages are stored."""

    async def __acall__(self, request):
        self.process_request(request)
        response = await self.get_response(request)
        storage = getattr(request, "_messages", None)
        if storage is not None and (storage.used or storage.added_new):
            return await sync_to_async(self.process_response)(request, response)
        return self.process_response(request, response)


class CsrfViewMiddleware(_CsrfViewMiddleware):
    """``django.middleware.csrf.CsrfViewMiddleware``, on the event loop unless it must read a form or the session.

    The checks are Django's own (origin, referer on HTTPS, token); only where
    they run changes.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        if self.async_mode:
            # BaseHandler.load_middleware awaits an async process_view as it is.
            self.process_view = self._process_view_async

    def _needs_thread(self, request) -> bool:
        return settings.CSRF_USE_SESSIONS or request.content_type in FORM_CONTENT_TYPES

    async def __acall__(self, request):
        if settings.CSRF_USE_SESSIONS:
            return await super().__acall__(request)
        self.process_request(request)
        response = await self.get_response(request)
        return self.process_response(request, response)

    async def _process_view_async(self, request, callback, callback_args, callback_kwargs):
        view = super().process_view
        if self._needs_thread(request):
            return await sync_to_async(view)(request, callback, callback_args, callback_kwargs)
        return view(request, callback, callback_args, callback_kwargs)
