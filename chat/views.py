"""Views: the chat page and the ChatKit endpoint (filled in by the endpoint issue)."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

CHATKIT_CDN_URL = "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js"


@ensure_csrf_cookie
def index(request):
    """The chat page: mounts the React bundle with the settings it needs."""
    config = {
        "apiUrl": "/chatkit",
        "domainKey": settings.CHATKIT_DOMAIN_KEY,
        "ui": settings.CHATKIT_UI,
        "cdnUrl": CHATKIT_CDN_URL,
        "loadTimeoutMs": 4000,
    }
    return render(request, "chat/index.html", {"chatkit_config": config})


async def chatkit(request):  # replaced by the endpoint
    raise NotImplementedError
