"""The chat app's settings, each with its default (the way ``django.contrib`` apps keep theirs).

A project that adds ``"chat"`` to ``INSTALLED_APPS`` and includes ``chat.urls``
works with none of these set. Read them through :data:`app_settings`, which
looks in ``django.conf.settings`` first and falls back to :data:`DEFAULTS`, so
``override_settings`` and pytest-django's ``settings`` fixture apply at once::

    from chat.conf import app_settings
    app_settings.CHATKIT_MODEL        # "local" unless the project sets it

The project's ``chatproject/settings.py`` reads each one from the environment
with these defaults; the README's settings table describes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings as django_settings

DEFAULTS: dict[str, Any] = {
    # Where answers come from: "local", "local:<variant>", "echo", "openai:<model>",
    # "openai-compatible:<model>", or "<prefix>:<model>" of a CHATKIT_MODEL_PROVIDERS entry.
    "CHATKIT_MODEL": "local",
    # The models a user may pick: [{"id": "<spec>", "label": "..."}]; empty = CHATKIT_MODEL alone.
    "CHATKIT_MODELS": [],
    # Extra model providers: {"<prefix>": "dotted.path.to.ModelProviderClass"}.
    "CHATKIT_MODEL_PROVIDERS": {},
    # A function (model: agents.Model) -> agents.Agent that answers every turn.
    "CHATKIT_AGENT": "chat.agents.default_agent",
    # A function (request) -> chat.context.RequestContext: who is asking.
    "CHATKIT_OWNER": "chat.context.default_owner",
    "CHATKIT_INSTRUCTIONS": (
        "You are a helpful assistant in a chat application. Answer briefly and clearly, in Markdown when it helps."
    ),
    # How threads.list orders threads: "activity" (last activity first) or "created".
    "CHATKIT_THREAD_ORDER": "activity",
    # How many recent thread items the model sees as history.
    "CHATKIT_HISTORY_ITEMS": 30,
    # Largest request body accepted by POST /chatkit, in bytes.
    "CHATKIT_MAX_REQUEST_BYTES": 1_048_576,
    # Largest body of any other request (the admin, uploads), in bytes; refused before it is read.
    "CHATKIT_MAX_BODY_BYTES": 10 * 1_048_576,
    # Seconds a client may take to send the next piece of a request body (then 408).
    "CHATKIT_BODY_TIMEOUT": 30.0,
    # Rate limits and quotas (chat/limits.py), each counted per owner and per client
    # address; 0 turns one off. Over a limit: 429 rate_limited with Retry-After.
    "CHATKIT_TURNS_PER_MINUTE": 20,  # streaming requests (messages, retries, actions)
    "CHATKIT_THREADS_PER_HOUR": 60,  # threads.create
    "CHATKIT_CONCURRENT_STREAMS": 3,  # answers streaming at once, per owner
    "CHATKIT_NEW_OWNERS_PER_HOUR": 30,  # anonymous owners minted per client address
    # Most output tokens one answer may have (ModelSettings.max_tokens); a longer one is
    # cut off with a visible marker. 0 leaves each model's own cap.
    "CHATKIT_MAX_OUTPUT_TOKENS": 1024,
    # Largest page (``limit``) of threads.list and items.list; larger or < 1 gets 400.
    "CHATKIT_MAX_PAGE_SIZE": 100,
    # Longest user message, in characters of its text; longer ones get 400.
    "CHATKIT_MAX_MESSAGE_CHARS": 20_000,
    # Longest thread title, in characters (at most 255, the column's size); longer ones get 400.
    "CHATKIT_MAX_TITLE_CHARS": 200,
    # Seconds between a running turn's heartbeats: each saves the answer so far and keeps its claim.
    "CHATKIT_TURN_HEARTBEAT_SECONDS": 2.0,
    # Seconds without a heartbeat after which a turn's claim is a dead process's, and a new turn may start.
    "CHATKIT_TURN_STALE_SECONDS": 30.0,
    # Worker threads for every request's sync code (chat/workers.py): open streams cost none, and
    # each holds one persistent database connection. 0: Django's default, a new thread per request.
    "CHATKIT_WORKER_THREADS": 8,
    # Streams of one server process that may be starting at once (chat/starts.py): more wait, so
    # the events of answers already streaming go first. 0: no limit.
    "CHATKIT_STARTING_TURNS": 2,
    # Seconds the model may stay silent before the turn ends with an error event.
    "CHATKIT_MODEL_TIMEOUT": 120.0,
    # Seconds the echo model waits before each word (imitates a slow model).
    "CHATKIT_ECHO_DELAY": 0.0,
    # Longest answer of the embedded model, in tokens (a longer one ends with a "cut off" note).
    "CHATKIT_LOCAL_MAX_TOKENS": 512,
    # CPU threads of the embedded model; fewer than the cores when other work shares them.
    "CHATKIT_LOCAL_THREADS": 2,
    # Offer the embedded model only the tools a message is about, and decide on that message alone
    # whether it calls one (measured better by `make eval`).
    "CHATKIT_LOCAL_NARROW_TOOLS": True,
    # Traces go to the OpenAI platform only when this is on.
    "CHATKIT_TRACING": False,
    # Where the embedded model's joined GGUF file is cached.
    "CHATKIT_MODEL_CACHE_DIR": Path.home() / ".cache" / "django-chatkit",
    # Frontend: "auto", "chatkit" or "builtin".
    "CHATKIT_UI": "auto",
    "CHATKIT_DOMAIN_KEY": "domain_pk_localhost_dev",
    "CHATKIT_CDN_URL": "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js",
    # Milliseconds the "auto" UI waits for chatkit.js before it shows the built-in client.
    "CHATKIT_CDN_TIMEOUT_MS": 4000,
    # The start screen of both UIs: a greeting, and prompts [{"label", "prompt", "icon"?, "theme"?}]
    # (a prompt with "theme": "light" or "dark" shows only in that theme).
    "CHATKIT_GREETING": "What can I help you with?",
    "CHATKIT_START_PROMPTS": [
        {"label": "Explain a concept", "prompt": "Explain how server-sent events work, briefly.", "icon": "lightbulb"},
        {
            "label": "Draft a note",
            "prompt": "Draft a short, friendly note to my team about Friday's release.",
            "icon": "write",
        },
        {"label": "Switch to dark mode", "prompt": "Switch the theme to dark.", "icon": "sparkle", "theme": "light"},
        {"label": "Switch to light mode", "prompt": "Switch the theme to light.", "icon": "sparkle", "theme": "dark"},
    ],
    "OPENAI_API_KEY": "",
    "OPENAI_BASE_URL": "",
    # Attachments (chat/attachments.py). How the ChatKit UI uploads: "two_phase" or "direct".
    "CHATKIT_UPLOAD_STRATEGY": "two_phase",
    # Largest attachment accepted, in bytes.
    "CHATKIT_ATTACHMENT_MAX_BYTES": 10_485_760,
    # Types accepted, as sniffed from the bytes: exact ("image/png") or "major/*" patterns.
    "CHATKIT_ATTACHMENT_TYPES": [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/*",
        "application/json",
    ],
    # Attachments one message may carry.
    "CHATKIT_ATTACHMENTS_PER_MESSAGE": 5,
    # Characters of a text file's (or a PDF's) text the model reads; the rest is cut with a marker.
    "CHATKIT_ATTACHMENT_TEXT_CHARS": 20_000,
    # Hours after which an upload that never joined a message is purged (manage.py purge_attachments).
    "CHATKIT_ATTACHMENT_PURGE_HOURS": 24,
}

UPLOAD_STRATEGIES = ("two_phase", "direct")

UI_CHOICES = ("auto", "chatkit", "builtin")
THREAD_ORDER_CHOICES = ("activity", "created")


class AppSettings:
    """Attribute access to the app's settings: the project's value, else the default.

    Raises ``AttributeError`` for a name that is not one of :data:`DEFAULTS`.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            default = DEFAULTS[name]
        except KeyError:
            raise AttributeError(f"{name} is not a chat app setting (see chat/conf.py)") from None
        return getattr(django_settings, name, default)


app_settings = AppSettings()
