from django.apps import AppConfig


class ChatConfig(AppConfig):
    """The ChatKit app: models as the Store, the /chatkit endpoint, the admin."""

    name = "chat"
    verbose_name = "Chat"
    default_auto_field = "django.db.models.BigAutoField"
