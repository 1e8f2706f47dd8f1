from django.apps import AppConfig


class ChatConfig(AppConfig):
    """The ChatKit app: models as the Store, the /chatkit endpoint, the admin."""

    name = "chat"
    verbose_name = "Chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import approvals, checks  # noqa: F401  (register the approval actions, the system checks)
        from .widgets import actions  # noqa: F401  (registers the widget actions)
        from .context import adopt_anonymous_threads
        from .llm import configure_tracing

        # The Agents SDK exports traces to OpenAI whenever a key is set: off unless asked.
        configure_tracing()
        user_logged_in.connect(adopt_anonymous_threads, dispatch_uid="chat.adopt_anonymous_threads")
        # Under daphne (runserver) each SSE event is sent at once, not on the reactor's next turn.
        from .daphne import send_promptly

        send_promptly()
