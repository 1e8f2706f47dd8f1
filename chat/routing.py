"""The chat app's WebSocket routes (Channels' ``URLRouter``), mounted by ``chatproject.asgi``.

``/chatkit/live``: the live-thread socket (:class:`chat.consumers.LiveThreadConsumer`).
Its path sits beside ``chat:chatkit``; the page passes it to the client as ``liveUrl``.
"""

from django.urls import path

from .consumers import LiveThreadConsumer

LIVE_PATH = "chatkit/live"

websocket_urlpatterns = [
    path(LIVE_PATH, LiveThreadConsumer.as_asgi(), name="live"),
]
