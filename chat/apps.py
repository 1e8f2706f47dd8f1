from django.apps import AppConfig


class ChatConfig(AppConfig):
    """The ChatKit app: models as the Store, the /chatkit endpoint, the admin."""

    name = "chat"
    verbose_name = "Chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The Agents SDK exports traces to OpenAI whenever a key is set: off unless asked.
        from .llm import configure_tracing

        configure_tracing()
