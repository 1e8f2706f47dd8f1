"""The chat app's URLs: include them with ``path("", include("chat.urls"))``.

Names (``app_name = "chat"``): ``chat:index`` (the page), ``chat:chatkit``
(the ChatKit endpoint) and ``chat:item-state`` (feedback and stopped answers
of a thread, which the protocol's items don't carry). Nothing else in the app hard-codes a path: the page's
config and the CSRF failure view ``reverse()`` these names.
"""

from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("", views.index, name="index"),
    path("chatkit", views.chatkit, name="chatkit"),
    path("chatkit/item-state", views.item_state, name="item-state"),
]
