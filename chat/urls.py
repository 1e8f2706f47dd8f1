"""The chat app's URLs: include them with ``path("", include("chat.urls"))``.

Names (``app_name = "chat"``): ``chat:index`` (the page), ``chat:chatkit``
(the ChatKit endpoint), ``chat:item-state`` (feedback and stopped answers
of a thread, which the protocol's items don't carry), ``chat:attachments``
(direct uploads), ``chat:attachment`` (one attachment: download, two-phase
upload), ``chat:attachment-preview`` (an image shown inline) and
``chat:healthz`` (the health check). Nothing else in the app hard-codes a
path: the page's config and the CSRF failure view ``reverse()`` these names.
"""

from django.urls import path

from . import attachments, health, views

app_name = "chat"

urlpatterns = [
    path("", views.index, name="index"),
    path("chatkit", views.chatkit, name="chatkit"),
    path("healthz", health.healthz, name="healthz"),
    path("chatkit/item-state", views.item_state, name="item-state"),
    path("chatkit/attachments", attachments.upload_direct, name="attachments"),
    path("chatkit/attachments/<str:attachment_id>", attachments.attachment, name="attachment"),
    path("chatkit/attachments/<str:attachment_id>/preview", attachments.preview, name="attachment-preview"),
]
