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
        "You are a helpful assistant in a chat application. Answer briefly and "
        "clearly, in Markdown when it helps."
    ),
    # How many recent thread items the model sees as history.
    "CHATKIT_HISTORY_ITEMS": 30,
    # Largest request body accepted by POST /chatkit, in bytes.
    "CHATKIT_MAX_REQUEST_BYTES": 1_048_576,
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
    # Seconds the model may stay silent before the turn ends with an error event.
    "CHATKIT_MODEL_TIMEOUT": 120.0,
    # Seconds the echo model waits before each word (imitates a slow model).
    "CHATKIT_ECHO_DELAY": 0.0,
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
    "OPENAI_API_KEY": "",
    "OPENAI_BASE_URL": "",
}

UI_CHOICES = ("auto", "chatkit", "builtin")


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
