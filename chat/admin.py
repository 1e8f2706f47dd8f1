"""The Django admin for threads, their items, attachments and feedback.

A thread's page shows its conversation as a transcript (:mod:`chat.transcript`),
with the raw items, attachments and feedback below it. Editing a thread's
title or status keeps its stored ChatKit JSON in step, so the app sees the
change (a locked or closed thread refuses new turns).
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.text import Truncator

from . import models
from .transcript import summarize, transcript


def owner_label(obj) -> str:
    """"alice" for a user's row, "anonymous (ab12…)" for a visitor's."""
    if getattr(obj, "user_id", None) and getattr(obj, "user", None):
        return obj.user.get_username()
    token = obj.owner.split(":", 1)[-1]
    return f"anonymous ({token[:6]}…)"


def pretty_json(data) -> str:
    return format_html("<pre style='white-space:pre-wrap;max-width:70em'>{}</pre>", json.dumps(data, indent=2, ensure_ascii=False))


class ItemInline(admin.TabularInline):
    model = models.Item
    fields = ("seq", "type", "excerpt", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = True
    show_change_link = True
    ordering = ("seq",)

    @admin.display(description="content")
    def excerpt(self, obj):
        return Truncator(summarize(obj.data)).chars(140)

    def has_add_permission(self, request, obj=None):
        return False


class AttachmentInline(admin.TabularInline):
    model = models.Attachment
    fields = ("id", "name", "mime_type", "file", "created_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class FeedbackInline(admin.TabularInline):
    model = models.Feedback
    fields = ("item_id", "kind", "created_at")
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ("display_title", "owner_display", "status", "item_count", "created_at", "updated_at")
    list_filter = ("status", "created_at", "updated_at")
    search_fields = ("title", "id", "items__text")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = ("id", "owner_display", "created_at", "updated_at", "conversation", "stored_json")
    fieldsets = (
        (None, {"fields": ("id", "title", "status", "owner_display", "created_at", "updated_at")}),
        ("Conversation", {"fields": ("conversation",)}),
        ("Stored ChatKit JSON", {"fields": ("stored_json",), "classes": ("collapse",)}),
    )
    inlines = (ItemInline, AttachmentInline, FeedbackInline)
    actions = ("lock_threads", "close_threads", "reopen_threads")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items", distinct=True))

    @admin.display(description="title", ordering="title")
    def display_title(self, obj):
        return obj.title or f"(untitled {obj.id[:12]}…)"

    @admin.display(description="owner", ordering="owner")
    def owner_display(self, obj):
        return owner_label(obj)

    @admin.display(description="items", ordering="item_count")
    def item_count(self, obj):
        return obj.item_count

    @admin.display(description="transcript")
    def conversation(self, obj):
        items = obj.items.order_by("seq").only("id", "type", "data", "created_at")
        feedback = dict(obj.feedback.values_list("item_id", "kind"))
        return render_to_string("chat/admin/transcript.html", {"lines": transcript(items, feedback)})

    @admin.display(description="thread JSON")
    def stored_json(self, obj):
        return pretty_json(obj.data)

    def save_model(self, request, obj, form, change):
        # The app reads the JSON, not the columns: keep them in step.
        status = dict(obj.data.get("status") or {})
        if status.get("type") != obj.status:
            status = {"type": obj.status}
        obj.data = {**obj.data, "title": obj.title or None, "status": status}
        super().save_model(request, obj, form, change)

    def _set_status(self, request, queryset, status: str, reason: str | None):
        count = 0
        for thread in queryset:
            thread.status = status
            thread.data = {**thread.data, "status": {"type": status, **({"reason": reason} if reason else {})}}
            thread.save(update_fields=["status", "data", "updated_at"])
            count += 1
        self.message_user(request, f"{count} thread(s) now {status}.", messages.SUCCESS)

    @admin.action(description="Lock selected threads (no new turns)")
    def lock_threads(self, request, queryset):
        self._set_status(request, queryset, "locked", "Locked by a moderator")

    @admin.action(description="Close selected threads")
    def close_threads(self, request, queryset):
        self._set_status(request, queryset, "closed", None)

    @admin.action(description="Reopen selected threads")
    def reopen_threads(self, request, queryset):
        self._set_status(request, queryset, "active", None)


@admin.register(models.Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("id", "thread", "type", "excerpt", "created_at")
    list_filter = ("type", "created_at")
    search_fields = ("id", "text", "thread__id", "thread__title")
    list_select_related = ("thread",)
    readonly_fields = ("seq", "id", "thread", "owner", "type", "created_at", "content", "stored_json")
    exclude = ("data", "text")

    @admin.display(description="content")
    def excerpt(self, obj):
        return Truncator(summarize(obj.data)).chars(100)

    @admin.display(description="content")
    def content(self, obj):
        return format_html("<div style='white-space:pre-wrap;max-width:70em'>{}</div>", summarize(obj.data))

    @admin.display(description="item JSON")
    def stored_json(self, obj):
        return pretty_json(obj.data)

    def has_add_permission(self, request):
        return False


@admin.register(models.Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("name", "mime_type", "thread", "owner", "created_at")
    list_filter = ("mime_type", "created_at")
    search_fields = ("id", "name", "thread__id")
    readonly_fields = ("id", "owner", "thread", "created_at", "stored_json")
    exclude = ("data",)

    @admin.display(description="attachment JSON")
    def stored_json(self, obj):
        return pretty_json(obj.data)

    def has_add_permission(self, request):
        return False


@admin.register(models.Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("item_id", "kind", "thread", "answer", "created_at")
    list_filter = ("kind", "created_at")
    search_fields = ("item_id", "thread__id", "thread__title")
    list_select_related = ("thread",)
    readonly_fields = ("thread", "item_id", "owner", "kind", "created_at", "answer")

    @admin.display(description="rated item")
    def answer(self, obj):
        item = models.Item.objects.filter(thread_id=obj.thread_id, id=obj.item_id).only("data").first()
        return Truncator(summarize(item.data)).chars(120) if item else "(deleted)"

    def has_add_permission(self, request):
        return False


# Widget templates and tool approvals live in chat/widgets/admin.py; a thread's page lists its approvals.
from .widgets.admin import ToolApprovalInline  # noqa: E402

ThreadAdmin.inlines = (*ThreadAdmin.inlines, ToolApprovalInline)
