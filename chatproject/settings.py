"""Django settings for the ChatKit project.

Every value comes from the environment or an optional ``.env`` file beside
``manage.py`` (read with django-environ). The README lists each setting.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set it in the environment or .env)."
        )
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
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files in production; async-capable, so the chain stays async.
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
# Persistent connections leak under ASGI (each request may run on a new thread).
DATABASES["default"]["CONN_MAX_AGE"] = 0
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
STATIC_ROOT = BASE_DIR / "staticfiles"
# The Vite build (frontend/dist) is served as static files.
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
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

# --- ChatKit ---------------------------------------------------------------

# Where answers come from: "local" (embedded, offline), "local:<variant>",
# "echo", "openai:<model>" or "openai-compatible:<model>".
CHATKIT_MODEL = env.str("CHATKIT_MODEL", default="local")
# Seconds the echo model waits before each word (imitates a slow model).
CHATKIT_ECHO_DELAY = env.float("CHATKIT_ECHO_DELAY", default=0.0)
CHATKIT_INSTRUCTIONS = env.str(
    "CHATKIT_INSTRUCTIONS",
    default=(
        "You are a helpful assistant in a chat application. Answer briefly and "
        "clearly, in Markdown when it helps."
    ),
)
# How many recent thread items the model sees as history.
CHATKIT_HISTORY_ITEMS = env.int("CHATKIT_HISTORY_ITEMS", default=30)
# Largest request body accepted by POST /chatkit, in bytes.
CHATKIT_MAX_REQUEST_BYTES = env.int("CHATKIT_MAX_REQUEST_BYTES", default=1_048_576)
# Seconds a single model call may take before it becomes an error event.
CHATKIT_MODEL_TIMEOUT = env.float("CHATKIT_MODEL_TIMEOUT", default=120.0)
# Longest answer of the embedded model, in tokens (a longer one ends with a "cut off" note).
CHATKIT_LOCAL_MAX_TOKENS = env.int("CHATKIT_LOCAL_MAX_TOKENS", default=512)
# CPU threads of the embedded model; fewer than the cores when other work shares them.
CHATKIT_LOCAL_THREADS = env.int("CHATKIT_LOCAL_THREADS", default=2)
# Offer the embedded model only the tools a message is about (measured better by `make eval`).
CHATKIT_LOCAL_NARROW_TOOLS = env.bool("CHATKIT_LOCAL_NARROW_TOOLS", default=True)
# Traces go to the OpenAI platform only when this is on.
CHATKIT_TRACING = env.bool("CHATKIT_TRACING", default=False)
# Where the embedded model's joined GGUF file is cached.
CHATKIT_MODEL_CACHE_DIR = env.path(
    "CHATKIT_MODEL_CACHE_DIR", default=Path.home() / ".cache" / "django-chatkit"
)
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")

# Frontend: "auto" (ChatKit from the CDN, built-in client if it doesn't load),
# "chatkit" (always the official UI) or "builtin" (always ours).
CHATKIT_UI = env.str("CHATKIT_UI", default="auto")
CHATKIT_DOMAIN_KEY = env.str("CHATKIT_DOMAIN_KEY", default="domain_pk_localhost_dev")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "openai.agents": {"level": "WARNING"},
    },
}

# /chatkit answers a CSRF failure as JSON like its other errors.
CSRF_FAILURE_VIEW = "chat.views.csrf_failure"
