"""System checks for the chat app: ``manage.py check`` catches a bad setting before the first turn.

Registered in ``ChatConfig.ready()`` (Django docs, "System check framework").

=========  ====================================================================
chat.E001  ``CHATKIT_MODEL`` (or a ``CHATKIT_MODELS`` id) is not a valid spec
chat.E002  ``CHATKIT_UI`` is not one of auto, chatkit, builtin
chat.E003  an ``openai-compatible:`` model without ``OPENAI_BASE_URL``
chat.E004  ``daphne`` missing from ``INSTALLED_APPS`` or not first (runserver won't stream)
chat.E005  ``CHATKIT_AGENT`` or ``CHATKIT_OWNER`` doesn't import or isn't callable
chat.E006  ``CHATKIT_MODELS`` is not a list of ``{"id": ..., "label": ...}``
chat.E007  ``CHATKIT_MODEL_PROVIDERS`` names something that isn't a ModelProvider class
chat.E008  an attachment setting is wrong: the upload strategy, the types, a size or count
chat.E009  a limit (``CHATKIT_TURNS_PER_MINUTE`` …, ``CHATKIT_MAX_*``) is not a whole number >= 0
chat.E010  ``CHATKIT_THREAD_ORDER`` is not one of activity, created
chat.E011  a bound or turn timing out of range (``CHATKIT_MAX_PAGE_SIZE``, ``CHATKIT_MAX_MESSAGE_CHARS``,
           ``CHATKIT_MAX_TITLE_CHARS`` 1..255, ``CHATKIT_TURN_STALE_SECONDS`` > 2 heartbeats, ``CHATKIT_WORKER_THREADS`` >= 0)
chat.W001  ``DEBUG`` off with Django's development ``SECRET_KEY``
chat.W002  ``DEBUG`` off with the ``echo`` model (it repeats the user's words)
chat.W003  an ``openai:`` model without ``OPENAI_API_KEY``
chat.W004  ``CHATKIT_TRACING`` on: conversations are exported to the OpenAI platform
chat.W005  ``CONN_MAX_AGE`` not 0 with ``CHATKIT_WORKER_THREADS = 0`` (a connection leaks per request thread)
chat.W006  an installed SDK or Django differs from the versions ``chat/compat.py`` is checked against
chat.W007  (deploy) no security, clickjacking or CSRF middleware, Django's or :mod:`chat.loop_middleware`'s
=========  ====================================================================
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .conf import THREAD_ORDER_CHOICES, UI_CHOICES, UPLOAD_STRATEGIES, app_settings

DEV_SECRET_KEY_PREFIX = "django-insecure-"


def _model_specs() -> list[tuple[str, str]]:
    """``(setting name, spec)`` for ``CHATKIT_MODEL`` and every ``CHATKIT_MODELS`` id."""
    specs = [("CHATKIT_MODEL", app_settings.CHATKIT_MODEL)]
    models = app_settings.CHATKIT_MODELS
    if isinstance(models, list):
        specs += [
            (f"CHATKIT_MODELS[{i}]", entry["id"])
            for i, entry in enumerate(models)
            if isinstance(entry, dict) and isinstance(entry.get("id"), str)
        ]
    return specs


@checks.register()
def check_models(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """chat.E001, E003, E006, E007, W002, W003: the model settings."""
    from .llm import parse_spec

    errors: list[checks.CheckMessage] = []
    models = app_settings.CHATKIT_MODELS
    if not isinstance(models, list) or not all(
        isinstance(e, dict) and isinstance(e.get("id"), str) and isinstance(e.get("label", ""), str) for e in models
    ):
        errors.append(
            checks.Error(
                f"CHATKIT_MODELS={models!r} is not a list of {{'id': '<model spec>', 'label': '...'}}.",
                hint='e.g. CHATKIT_MODELS=[{"id": "local", "label": "Local"}, {"id": "openai:gpt-4.1-mini", "label": "GPT"}]',
                id="chat.E006",
            )
        )
    for name, spec in _model_specs():
        try:
            kind, _ = parse_spec(spec)
        except ImproperlyConfigured as exc:
            msg = str(exc)
            errors.append(
                checks.Error(
                    msg.replace("CHATKIT_MODEL=", f"{name}=", 1),
                    hint="Set CHATKIT_MODEL in the environment or .env.",
                    id="chat.E007" if msg.startswith("CHATKIT_MODEL_PROVIDERS") else "chat.E001",
                )
            )
            continue
        if kind == "openai-compatible" and not app_settings.OPENAI_BASE_URL:
            errors.append(
                checks.Error(
                    f"{name}={spec!r} needs OPENAI_BASE_URL, the Chat Completions server's base URL.",
                    hint="e.g. OPENAI_BASE_URL=http://127.0.0.1:11434/v1 for Ollama.",
                    id="chat.E003",
                )
            )
        if kind == "openai" and not (app_settings.OPENAI_API_KEY or _env_has("OPENAI_API_KEY")):
            errors.append(
                checks.Warning(f"{name}={spec!r} but OPENAI_API_KEY is empty: every turn will fail.", id="chat.W003")
            )
        if kind == "echo" and name == "CHATKIT_MODEL" and not settings.DEBUG:
            errors.append(
                checks.Warning(
                    "CHATKIT_MODEL='echo' with DEBUG off: answers repeat the user's words.",
                    hint="Use local, openai:<model> or openai-compatible:<model> in production.",
                    id="chat.W002",
                )
            )
    return errors


def _env_has(name: str) -> bool:
    import os

    return bool(os.environ.get(name))


@checks.register()
def check_ui(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """chat.E002: ``CHATKIT_UI``."""
    if app_settings.CHATKIT_UI not in UI_CHOICES:
        return [
            checks.Error(
                f"CHATKIT_UI={app_settings.CHATKIT_UI!r} is not one of {', '.join(UI_CHOICES)}.",
                id="chat.E002",
            )
        ]
    return []


@checks.register()
def check_attachments(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """chat.E008: ``CHATKIT_UPLOAD_STRATEGY``, ``CHATKIT_ATTACHMENT_TYPES`` and the attachment limits."""
    problems = []
    if app_settings.CHATKIT_UPLOAD_STRATEGY not in UPLOAD_STRATEGIES:
        problems.append(
            f"CHATKIT_UPLOAD_STRATEGY={app_settings.CHATKIT_UPLOAD_STRATEGY!r} is not one of {', '.join(UPLOAD_STRATEGIES)}."
        )
    types = app_settings.CHATKIT_ATTACHMENT_TYPES
    if not isinstance(types, (list, tuple)) or not all(isinstance(t, str) and t.count("/") == 1 for t in types):
        problems.append(f"CHATKIT_ATTACHMENT_TYPES={types!r} is not a list of types like 'image/png' or 'text/*'.")
    for name in ("CHATKIT_ATTACHMENT_MAX_BYTES", "CHATKIT_ATTACHMENTS_PER_MESSAGE", "CHATKIT_ATTACHMENT_TEXT_CHARS"):
        value = getattr(app_settings, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(f"{name}={value!r} is not a whole number of at least 0.")
    return [checks.Error(problem, id="chat.E008") for problem in problems]


@checks.register()
def check_thread_order(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """chat.E010: ``CHATKIT_THREAD_ORDER``."""
    if app_settings.CHATKIT_THREAD_ORDER not in THREAD_ORDER_CHOICES:
        return [
            checks.Error(
                f"CHATKIT_THREAD_ORDER={app_settings.CHATKIT_THREAD_ORDER!r} is not one of "
                f"{', '.join(THREAD_ORDER_CHOICES)}.",
                id="chat.E010",
            )
        ]
    return []


@checks.register()
def check_daphne_first(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """chat.E004: daphne first in ``INSTALLED_APPS``, so ``runserver`` serves ASGI and streams."""
    apps = list(settings.INSTALLED_APPS)
    if "daphne" not in apps:
        problem = "daphne is not in INSTALLED_APPS"
    elif apps[0] != "daphne":
        problem = f"daphne is in INSTALLED_APPS but not first (first is {apps[0]!r})"
    else:
        return []
    return [
        checks.Error(
            f"{problem}: manage.py runserver would serve WSGI and buffer every answer instead of streaming it.",
            hint='Put "daphne" first in INSTALLED_APPS and set ASGI_APPLICATION.',
            id="chat.E004",
        )
    ]


@checks.register()
def check_extension_points(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """chat.E005: ``CHATKIT_AGENT`` and ``CHATKIT_OWNER`` import and are callable."""
    errors = []
    for name in ("CHATKIT_AGENT", "CHATKIT_OWNER"):
        path = getattr(app_settings, name)
        try:
            target = import_string(path)
        except ImportError as exc:
            errors.append(checks.Error(f"{name}={path!r} can't be imported: {exc}", id="chat.E005"))
            continue
        if not callable(target):
            errors.append(checks.Error(f"{name}={path!r} is not callable.", id="chat.E005"))
    return errors


LIMIT_SETTINGS = (
    "CHATKIT_TURNS_PER_MINUTE",
    "CHATKIT_THREADS_PER_HOUR",
    "CHATKIT_CONCURRENT_STREAMS",
    "CHATKIT_NEW_OWNERS_PER_HOUR",
    "CHATKIT_MAX_OUTPUT_TOKENS",
    "CHATKIT_MAX_REQUEST_BYTES",
    "CHATKIT_MAX_BODY_BYTES",
    "CHATKIT_STARTING_TURNS",
)


@checks.register()
def check_limits(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """chat.E009: the limits (chat/limits.py, chat/asgi.py, chat/cutoff.py) are whole numbers >= 0."""
    errors = []
    for name in LIMIT_SETTINGS:
        value = getattr(app_settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.append(
                checks.Error(
                    f"{name}={value!r} is not a whole number >= 0.", hint="0 turns a rate limit off.", id="chat.E009"
                )
            )
    return errors


@checks.register(checks.Tags.security, deploy=False)
def check_production_safety(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """chat.W001, W004, W005: settings that are unsafe or leak data in production."""
    warnings = []
    if not settings.DEBUG and str(settings.SECRET_KEY).startswith(DEV_SECRET_KEY_PREFIX):
        warnings.append(
            checks.Warning(
                "DEBUG is off but SECRET_KEY is the development key.",
                hint="Set SECRET_KEY to a long random value (python -c 'import secrets; print(secrets.token_urlsafe(50))').",
                id="chat.W001",
            )
        )
    if app_settings.CHATKIT_TRACING:
        warnings.append(
            checks.Warning(
                "CHATKIT_TRACING is on: every conversation is exported to the OpenAI platform as traces.",
                id="chat.W004",
            )
        )
    for alias, db in settings.DATABASES.items():
        # Persistent connections are safe on the fixed worker threads (chat/workers.py), not on a thread per request.
        if db.get("CONN_MAX_AGE", 0) != 0 and app_settings.CHATKIT_WORKER_THREADS == 0:
            warnings.append(
                checks.Warning(
                    f"DATABASES[{alias!r}]['CONN_MAX_AGE'] is {db['CONN_MAX_AGE']} with CHATKIT_WORKER_THREADS = 0: "
                    "each request then runs on a new thread, so persistent connections leak.",
                    hint="Set CHATKIT_WORKER_THREADS above 0, or CONN_MAX_AGE = 0 (and the psycopg pool on PostgreSQL).",
                    id="chat.W005",
                )
            )
    return warnings


@checks.register()
def check_bounds_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """chat.E011: the input bounds and the turn timings are usable (:mod:`chat.protocol`, :mod:`chat.turns`)."""
    errors = []
    minimums = {"CHATKIT_MAX_PAGE_SIZE": 1, "CHATKIT_MAX_MESSAGE_CHARS": 1, "CHATKIT_MAX_TITLE_CHARS": 1}
    for name, least in minimums.items():
        value = getattr(app_settings, name)
        if not isinstance(value, int) or value < least:
            errors.append(checks.Error(f"{name}={value!r} must be a whole number of at least {least}.", id="chat.E011"))
    title = app_settings.CHATKIT_MAX_TITLE_CHARS
    if isinstance(title, int) and title > 255:
        errors.append(
            checks.Error(f"CHATKIT_MAX_TITLE_CHARS={title} is over 255, the title column's size.", id="chat.E011")
        )
    workers = app_settings.CHATKIT_WORKER_THREADS
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        errors.append(
            checks.Error(
                f"CHATKIT_WORKER_THREADS={workers!r} must be a whole number >= 0 (0: a thread per request).",
                id="chat.E011",
            )
        )
    beat, stale = app_settings.CHATKIT_TURN_HEARTBEAT_SECONDS, app_settings.CHATKIT_TURN_STALE_SECONDS
    if not beat > 0 or not stale > 2 * beat:
        errors.append(
            checks.Error(
                f"CHATKIT_TURN_HEARTBEAT_SECONDS={beat!r} and CHATKIT_TURN_STALE_SECONDS={stale!r}: the heartbeat "
                "must be positive and the stale time over two heartbeats, or live turns are taken over.",
                id="chat.E011",
            )
        )
    return errors


@checks.register()
def check_compat_pins(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """chat.W006: the SDKs and Django are the versions ``chat/compat.py`` was checked against."""
    from .compat import pin_mismatches

    return [
        checks.Warning(
            f"Installed {line}: its private APIs may have changed.",
            hint="Re-check every use in chat/compat.py, then update PINNED there.",
            id="chat.W006",
        )
        for line in pin_mismatches()
    ]


# chat.loop_middleware's classes are Django's own, subclassed; Django's security checks look
# for Django's by dotted path, so they would miss them (security.W001-W003, which the project
# silences) and skip every check that depends on them (HSTS, nosniff, X-Frame-Options...).
LOOP_MIDDLEWARE = {
    f"chat.loop_middleware.{name}": f"{module}.{name}"
    for module, name in [
        ("django.middleware.security", "SecurityMiddleware"),
        ("django.middleware.clickjacking", "XFrameOptionsMiddleware"),
        ("django.middleware.csrf", "CsrfViewMiddleware"),
        ("django.middleware.common", "CommonMiddleware"),
        ("django.contrib.sessions.middleware", "SessionMiddleware"),
        ("django.contrib.auth.middleware", "AuthenticationMiddleware"),
        ("django.contrib.messages.middleware", "MessageMiddleware"),
    ]
}


@checks.register(checks.Tags.security, deploy=True)
def check_security_with_loop_middleware(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """chat.W007, and Django's deploy checks that find its middleware by path, with ours counted as Django's.

    Runs Django's own check functions with ``MIDDLEWARE`` naming Django's
    classes for :data:`LOOP_MIDDLEWARE`'s, and reports what they find that the
    plain run didn't. A missing middleware (Django's security.W001-W003, which
    the project silences because they can't see subclasses) is chat.W007.
    """
    if not any(path in LOOP_MIDDLEWARE for path in settings.MIDDLEWARE):
        return []
    from django.core.checks.security import base, csrf, sessions
    from django.test.utils import override_settings

    presence = [base.check_security_middleware, base.check_xframe_options_middleware, csrf.check_csrf_middleware]
    dependent = [
        base.check_sts,
        base.check_sts_include_subdomains,
        base.check_sts_preload,
        base.check_content_type_nosniff,
        base.check_ssl_redirect,
        base.check_xframe_deny,
        base.check_referrer_policy,
        base.check_cross_origin_opener_policy,
        csrf.check_csrf_cookie_secure,
        sessions.check_session_cookie_secure,
        sessions.check_session_cookie_httponly,
    ]
    plain = {m.id for check in dependent for m in check(app_configs)}
    found: list[checks.CheckMessage] = []
    with override_settings(MIDDLEWARE=[LOOP_MIDDLEWARE.get(path, path) for path in settings.MIDDLEWARE]):
        for check in presence:
            found += [checks.Warning(m.msg, hint=m.hint, id="chat.W007") for m in check(app_configs)]
        found += [m for check in dependent for m in check(app_configs) if m.id not in plain]
    return found
