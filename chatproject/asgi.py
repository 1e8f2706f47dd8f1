"""ASGI entry point: ``manage.py runserver`` (daphne), uvicorn and ``make serve`` all serve this.

HTTP goes to Django, behind :class:`chat.asgi.BodyLimitMiddleware`, which
refuses oversized or stalled bodies before Django reads them, and
:class:`chat.workers.WorkerThreads`, which runs every request's sync code on
``CHATKIT_WORKER_THREADS`` fixed threads. WebSockets (the live threads,
:mod:`chat.routing`) go to Channels, through the session and auth middleware
(the same owner as ``/chatkit``) and an origin check against ``ALLOWED_HOSTS``.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")

# Django first: it sets up the apps the WebSocket routes import.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from chat.asgi import BodyLimitMiddleware  # noqa: E402
from chat.conf import app_settings  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402
from chat.workers import WorkerThreads  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(WorkerThreads(django_application, app_settings.CHATKIT_WORKER_THREADS)),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
