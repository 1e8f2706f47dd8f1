"""The chat app's URLs: include them with ``path("", include("chat.urls"))``.

Names (``app_name = "chat"``): ``chat:index`` (the page), ``chat:chatkit``
(the ChatKit endpoint) and ``chat:healthz`` (the health check). Nothing else in the app hard-codes a path: the page's
config and the CSRF failure view ``reverse()`` these names.
"""

from django.urls import path

from . import health, views

app_name = "chat"

urlpatterns = [
    path("", views.index, name="index"),
    path("chatkit", views.chatkit, name="chatkit"),
    path("healthz", health.healthz, name="healthz"),
]
