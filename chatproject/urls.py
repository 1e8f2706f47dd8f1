"""URL routes: the chat page, the ChatKit endpoint and the admin."""

from django.contrib import admin
from django.urls import path

from chat import views

urlpatterns = [
    path("", views.index, name="index"),
    path("chatkit", views.chatkit, name="chatkit"),
    path("chatkit/item-state", views.item_state, name="chatkit-item-state"),
    path("admin/", admin.site.urls),
]
