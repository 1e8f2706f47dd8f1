"""Django settings for the ChatKit project.

Every value comes from the environment or an optional ``.env`` file beside
``manage.py`` (read with django-environ). The README lists each setting.
"""

from pathlib import Path

import environ
from csp.constants import NONCE, SELF
from django.core.exceptions import ImproperlyConfigured

from chat.conf import DEFAULTS as CHATKIT_DEFAULTS

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

# Off unless the development set-up turns it on (`make run` passes DEBUG=1).
DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set it in the environment or .env).")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # daphne first: its runserver replaces Django's WSGI one, so answers stream.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "servestatic",  # its configuration checks
    "django_vite",
    "csp",  # Content-Security-Policy with nonces
    "axes",  # throttles failed logins (the admin's)
    "chat",
]

MIDDLEWARE = [
    # First, so every later log line of a request carries its id.
    "chat.requestid.RequestIdMiddleware",
    # Then: every error answer from /chatkit is JSON.
    "chat.middleware.chatkit_json_errors",
    # chat.loop_middleware: Django's own middleware (and django-csp's), with their phases on
    # the event loop instead of a worker-thread hop each (chat/loop_middleware.py).
    "chat.loop_middleware.SecurityMiddleware",
    # Static files in production; async-capable, so the chain stays async.
    "servestatic.middleware.ServeStaticMiddleware",
    "chat.loop_middleware.SessionMiddleware",
    # Sets the anonymous owner's signed cookie on any response that minted one.
    "chat.context.owner_cookie_middleware",
    "chat.loop_middleware.CommonMiddleware",
    "chat.loop_middleware.CsrfViewMiddleware",
    "chat.loop_middleware.AuthenticationMiddleware",
    "chat.loop_middleware.MessageMiddleware",
    "chat.loop_middleware.XFrameOptionsMiddleware",
    "chat.loop_middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into the refusal page.
    "axes.middleware.AxesMiddleware",
]

# Django's security checks look for its middleware by dotted path and can't see the subclasses
# in chat.loop_middleware; chat.W007 and chat/checks.py run the same checks seeing them.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

AUTHENTICATION_BACKENDS = [
    # First: it refuses a locked-out username/address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "chatproject.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "chatproject.asgi.application"
WSGI_APPLICATION = None

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Every request's sync code runs on one of CHATKIT_WORKER_THREADS fixed threads (chat/workers.py),
# so SQLite connections can persist: at most one per worker thread, checked at each request's
# start. With a thread per request (CHATKIT_WORKER_THREADS=0) they would leak, so then 0; and
# on PostgreSQL the pool below keeps the connections (Django's pool needs CONN_MAX_AGE = 0).
CHATKIT_WORKER_THREADS = env.int("CHATKIT_WORKER_THREADS", default=CHATKIT_DEFAULTS["CHATKIT_WORKER_THREADS"])
_persistent = CHATKIT_WORKER_THREADS > 0 and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=300 if _persistent else 0)
# Streams that may be starting at once per process (chat/starts.py); the rest wait their turn.
CHATKIT_STARTING_TURNS = env.int("CHATKIT_STARTING_TURNS", default=CHATKIT_DEFAULTS["CHATKIT_STARTING_TURNS"])
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and the one writer proceed together; a busy timeout
    # waits for the write lock instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3's pool (Django 5.1+): a connection is borrowed per use and
    # handed back on close, instead of opened per request. Sized per process.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }

# Redis, when REDIS_URL is set: the cache (the rate-limit counters, chat/limits.py) and the
# Channels layer are then shared by every server process, so limits and live threads hold
# across processes. Without it, each process keeps its own (development; CACHE_URL can
# still name another shared cache).
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_PREFIX = env.str("REDIS_PREFIX", default="chatkit")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
            # Fail fast when Redis is away (/healthz answers 503, not a hang).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": REDIS_PREFIX},
        }
    }
else:
    CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Fixed to UTC: the ChatKit SDK stamps streamed items with a naive
# datetime.now(), which Django's TIME_ZONE makes local time; in UTC the
# store and the browser read those stamps correctly.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")  # `manage.py collectstatic` fills it
# The Vite build (frontend/dist) is served as static files.
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.exists() else []
STORAGES = {
    # Attachment bytes: the file system (MEDIA_ROOT) unless another backend is named,
    # e.g. storages.backends.s3.S3Storage (django-storages) with its OPTIONS as JSON.
    "default": {
        "BACKEND": env.str("MEDIA_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("MEDIA_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "servestatic.storage.CompressedManifestStaticFilesStorage"
    },
}
# In development ServeStatic serves straight from the finders (no collectstatic).
SERVESTATIC_USE_FINDERS = DEBUG
SERVESTATIC_AUTOREFRESH = DEBUG
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"

DJANGO_VITE = {
    "default": {
        "dev_mode": env.bool("VITE_DEV_MODE", default=False),
        "dev_server_port": env.int("VITE_DEV_SERVER_PORT", default=5173),
        "manifest_path": FRONTEND_DIST / ".vite" / "manifest.json",
        "static_url_prefix": "",
    }
}

LOGIN_URL = "admin:login"

# --- Security ---------------------------------------------------------------
# HTTPS: the site is served over HTTPS (directly or behind a proxy that says so in
# SECURE_PROXY_SSL_HEADER). On by default when DEBUG is off: redirects to HTTPS, HSTS,
# and Secure cookies. `manage.py check --deploy` is clean with it on.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
# Health probes (load balancers, orchestrators) ask over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
if env.str("SECURE_PROXY_SSL_HEADER", default=""):  # e.g. HTTP_X_FORWARDED_PROTO
    SECURE_PROXY_SSL_HEADER = (env.str("SECURE_PROXY_SSL_HEADER"), "https")
SESSION_COOKIE_HTTPONLY = True
# The frontend reads csrftoken to send it as X-CSRFToken, so that cookie can't be HttpOnly
# (Django's docs: doing so offers no practical benefit).
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): only this origin, scripts by nonce. The chat page
# adds what ChatKit's UI needs (chat/views.py); the built-in client needs nothing external,
# so an image a model writes into an answer is never fetched from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": [SELF, NONCE],
        # Inline style attributes (the admin's, React's) carry no script.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if DJANGO_VITE["default"]["dev_mode"]:  # scripts, styles and hot reload from `npm run dev`
    _vite = f"http://localhost:{DJANGO_VITE['default']['dev_server_port']}"
    for _directive in ("script-src", "style-src", "connect-src", "img-src"):
        CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive] += [_vite, _vite.replace("http:", "ws:")]

# Failed logins (django-axes): after 5 wrong passwords for one username from one address,
# that pair is locked out for an hour (a 429 page), whatever the password.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_TIME", default=1.0)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429

# --- ChatKit ---------------------------------------------------------------
# Each default lives in the app (chat/conf.py); the environment overrides it.
# The README's settings table says what each one means.

CHATKIT_MODEL = env.str("CHATKIT_MODEL", default=CHATKIT_DEFAULTS["CHATKIT_MODEL"])
CHATKIT_MODELS = env.json("CHATKIT_MODELS", default=CHATKIT_DEFAULTS["CHATKIT_MODELS"])
CHATKIT_MODEL_PROVIDERS = env.json("CHATKIT_MODEL_PROVIDERS", default=CHATKIT_DEFAULTS["CHATKIT_MODEL_PROVIDERS"])
CHATKIT_AGENT = env.str("CHATKIT_AGENT", default=CHATKIT_DEFAULTS["CHATKIT_AGENT"])
CHATKIT_OWNER = env.str("CHATKIT_OWNER", default=CHATKIT_DEFAULTS["CHATKIT_OWNER"])
CHATKIT_ECHO_DELAY = env.float("CHATKIT_ECHO_DELAY", default=CHATKIT_DEFAULTS["CHATKIT_ECHO_DELAY"])
CHATKIT_INSTRUCTIONS = env.str("CHATKIT_INSTRUCTIONS", default=CHATKIT_DEFAULTS["CHATKIT_INSTRUCTIONS"])
CHATKIT_THREAD_ORDER = env.str("CHATKIT_THREAD_ORDER", default=CHATKIT_DEFAULTS["CHATKIT_THREAD_ORDER"])
CHATKIT_HISTORY_ITEMS = env.int("CHATKIT_HISTORY_ITEMS", default=CHATKIT_DEFAULTS["CHATKIT_HISTORY_ITEMS"])
CHATKIT_MAX_REQUEST_BYTES = env.int("CHATKIT_MAX_REQUEST_BYTES", default=CHATKIT_DEFAULTS["CHATKIT_MAX_REQUEST_BYTES"])
CHATKIT_MAX_BODY_BYTES = env.int("CHATKIT_MAX_BODY_BYTES", default=CHATKIT_DEFAULTS["CHATKIT_MAX_BODY_BYTES"])
CHATKIT_BODY_TIMEOUT = env.float("CHATKIT_BODY_TIMEOUT", default=CHATKIT_DEFAULTS["CHATKIT_BODY_TIMEOUT"])
CHATKIT_TURNS_PER_MINUTE = env.int("CHATKIT_TURNS_PER_MINUTE", default=CHATKIT_DEFAULTS["CHATKIT_TURNS_PER_MINUTE"])
CHATKIT_THREADS_PER_HOUR = env.int("CHATKIT_THREADS_PER_HOUR", default=CHATKIT_DEFAULTS["CHATKIT_THREADS_PER_HOUR"])
CHATKIT_CONCURRENT_STREAMS = env.int(
    "CHATKIT_CONCURRENT_STREAMS", default=CHATKIT_DEFAULTS["CHATKIT_CONCURRENT_STREAMS"]
)
CHATKIT_NEW_OWNERS_PER_HOUR = env.int(
    "CHATKIT_NEW_OWNERS_PER_HOUR", default=CHATKIT_DEFAULTS["CHATKIT_NEW_OWNERS_PER_HOUR"]
)
CHATKIT_MAX_OUTPUT_TOKENS = env.int("CHATKIT_MAX_OUTPUT_TOKENS", default=CHATKIT_DEFAULTS["CHATKIT_MAX_OUTPUT_TOKENS"])
CHATKIT_MAX_PAGE_SIZE = env.int("CHATKIT_MAX_PAGE_SIZE", default=CHATKIT_DEFAULTS["CHATKIT_MAX_PAGE_SIZE"])
CHATKIT_MAX_MESSAGE_CHARS = env.int("CHATKIT_MAX_MESSAGE_CHARS", default=CHATKIT_DEFAULTS["CHATKIT_MAX_MESSAGE_CHARS"])
CHATKIT_MAX_TITLE_CHARS = env.int("CHATKIT_MAX_TITLE_CHARS", default=CHATKIT_DEFAULTS["CHATKIT_MAX_TITLE_CHARS"])
CHATKIT_TURN_HEARTBEAT_SECONDS = env.float(
    "CHATKIT_TURN_HEARTBEAT_SECONDS", default=CHATKIT_DEFAULTS["CHATKIT_TURN_HEARTBEAT_SECONDS"]
)
CHATKIT_TURN_STALE_SECONDS = env.float(
    "CHATKIT_TURN_STALE_SECONDS", default=CHATKIT_DEFAULTS["CHATKIT_TURN_STALE_SECONDS"]
)
CHATKIT_MODEL_TIMEOUT = env.float("CHATKIT_MODEL_TIMEOUT", default=CHATKIT_DEFAULTS["CHATKIT_MODEL_TIMEOUT"])
CHATKIT_TRACING = env.bool("CHATKIT_TRACING", default=CHATKIT_DEFAULTS["CHATKIT_TRACING"])
CHATKIT_LOCAL_MAX_TOKENS = env.int("CHATKIT_LOCAL_MAX_TOKENS", default=CHATKIT_DEFAULTS["CHATKIT_LOCAL_MAX_TOKENS"])
CHATKIT_LOCAL_THREADS = env.int("CHATKIT_LOCAL_THREADS", default=CHATKIT_DEFAULTS["CHATKIT_LOCAL_THREADS"])
CHATKIT_LOCAL_NARROW_TOOLS = env.bool(
    "CHATKIT_LOCAL_NARROW_TOOLS", default=CHATKIT_DEFAULTS["CHATKIT_LOCAL_NARROW_TOOLS"]
)
CHATKIT_MODEL_CACHE_DIR = env.path("CHATKIT_MODEL_CACHE_DIR", default=CHATKIT_DEFAULTS["CHATKIT_MODEL_CACHE_DIR"])
CHATKIT_UI = env.str("CHATKIT_UI", default=CHATKIT_DEFAULTS["CHATKIT_UI"])
CHATKIT_DOMAIN_KEY = env.str("CHATKIT_DOMAIN_KEY", default=CHATKIT_DEFAULTS["CHATKIT_DOMAIN_KEY"])
CHATKIT_GREETING = env.str("CHATKIT_GREETING", default=CHATKIT_DEFAULTS["CHATKIT_GREETING"])
CHATKIT_START_PROMPTS = env.json("CHATKIT_START_PROMPTS", default=CHATKIT_DEFAULTS["CHATKIT_START_PROMPTS"])
CHATKIT_UPLOAD_STRATEGY = env.str("CHATKIT_UPLOAD_STRATEGY", default=CHATKIT_DEFAULTS["CHATKIT_UPLOAD_STRATEGY"])
CHATKIT_ATTACHMENT_MAX_BYTES = env.int(
    "CHATKIT_ATTACHMENT_MAX_BYTES", default=CHATKIT_DEFAULTS["CHATKIT_ATTACHMENT_MAX_BYTES"]
)
CHATKIT_ATTACHMENT_TYPES = env.list("CHATKIT_ATTACHMENT_TYPES", default=CHATKIT_DEFAULTS["CHATKIT_ATTACHMENT_TYPES"])
CHATKIT_ATTACHMENTS_PER_MESSAGE = env.int(
    "CHATKIT_ATTACHMENTS_PER_MESSAGE", default=CHATKIT_DEFAULTS["CHATKIT_ATTACHMENTS_PER_MESSAGE"]
)
CHATKIT_ATTACHMENT_TEXT_CHARS = env.int(
    "CHATKIT_ATTACHMENT_TEXT_CHARS", default=CHATKIT_DEFAULTS["CHATKIT_ATTACHMENT_TEXT_CHARS"]
)
CHATKIT_ATTACHMENT_PURGE_HOURS = env.float(
    "CHATKIT_ATTACHMENT_PURGE_HOURS", default=CHATKIT_DEFAULTS["CHATKIT_ATTACHMENT_PURGE_HOURS"]
)
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")

# One JSON object a line in production (LOG_FORMAT=json, the default with DEBUG
# off), readable lines in development; each carries the request's id.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'text', not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "chat.requestid.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "openai.agents": {"level": "WARNING"},
        # One line per request (chat.requestid); the servers' own access logs are off or duplicates.
        "chat.request": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
        # The servers' loggers go through the same handler (their own are dropped).
        "uvicorn": {"handlers": ["console"], "propagate": False},
        "uvicorn.error": {"handlers": [], "propagate": True},
        "uvicorn.access": {"handlers": [], "propagate": True, "level": "WARNING"},
    },
}


# /chatkit answers a CSRF failure as JSON like its other errors.
CSRF_FAILURE_VIEW = "chat.views.csrf_failure"
