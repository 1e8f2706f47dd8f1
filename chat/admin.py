"""The Django admin for threads, their items, attachments and feedback.

Built to stay fast with many threads (docs/architecture.md, "The admin"):
every changelist runs a fixed number of queries (related rows are joined or
annotated, never fetched per row), and a thread's page shows its transcript a
page at a time (:mod:`chat.transcript`, newest page first) with the raw items
one click away in the item list filtered to the thread, not inline.

Sections: threads (list, transcript, moderation, export), items, attachments,
feedback (with its chart), server tool calls and moderation events.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator, smart_split, unescape_string_literal

from . import models, transfer
from .moderation import set_status
from .transcript import summarize, transcript_page


# The store's ids (chat.store.new_id): a prefix and 32 hex digits.
THREAD_ID = re.compile(r"thr_[0-9a-f]{32}")
ITEM_ID = re.compile(r"[a-z]+_[0-9a-f]{32}")


def owner_label(obj) -> str:
    """ "alice" for a user's row, "anonymous (ab12…)" for a visitor's, the key itself otherwise ("cli:bob")."""
    if getattr(obj, "user_id", None) and getattr(obj, "user", None):
        return obj.user.get_username()
    kind, _, token = obj.owner.partition(":")
    if kind == "anon":
        return f"anonymous ({token[:6]}…)"
    return Truncator(obj.owner).chars(24)


def pretty_json(data) -> str:
    return format_html(
        "<pre style='white-space:pre-wrap;max-width:70em'>{}</pre>", json.dumps(data, indent=2, ensure_ascii=False)
    )


def attachment_file_link(obj) -> str:
    """A staff download link to an attachment's bytes (through the admin, never a media URL)."""
    if not obj.file:
        return "(not uploaded)"
    return format_html('<a href="{}">Download</a>', reverse("admin:chat_attachment_file", args=[obj.pk, "download"]))


def thread_url(thread_seq: int, item_id: str | None = None) -> str:
    """The admin page of a thread (by ``seq``), at the transcript page holding ``item_id`` if given."""
    url = reverse("admin:chat_thread_change", args=[thread_seq])
    return url + (f"?{urlencode({'item': item_id})}#item-{item_id}" if item_id else "")


# --- threads -----------------------------------------------------------------


class ModerationForm(forms.Form):
    """The reason asked for by the lock, close and reopen actions."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        help_text="Shown to the thread's owner and kept in the thread's moderation record.",
    )


class ThreadForm(forms.ModelForm):
    """The thread page's form: a status change takes a reason, recorded like the actions'."""

    moderation_reason = forms.CharField(
        label="Reason for a status change",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        required=False,
        help_text="Required to lock or close; shown to the owner.",
    )

    class Meta:
        model = models.Thread
        fields = ("title", "status")

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        if (
            "status" in self.changed_data
            and status != models.ThreadStatus.ACTIVE
            and not cleaned.get("moderation_reason", "").strip()
        ):
            self.add_error("moderation_reason", "Give a reason: the thread's owner will see it.")
        return cleaned


@admin.register(models.Thread)
class ThreadAdmin(admin.ModelAdmin):
    form = ThreadForm
    list_display = ("display_title", "owner_display", "status", "item_count", "created_at", "updated_at")
    list_filter = ("status", "created_at", "updated_at")
    search_fields = ("title", "id", "items__text")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    ordering = ("-updated_at", "-seq")  # last activity first; seq keeps ties in a fixed order
    list_per_page = 50
    readonly_fields = (
        "id",
        "owner_display",
        "created_at",
        "updated_at",
        "links",
        "moderation_record",
        "approvals",
        "conversation",
        "stored_json",
    )
    fieldsets = (
        (None, {"fields": ("id", "title", "owner_display", "created_at", "updated_at", "links")}),
        ("Moderation", {"fields": ("status", "moderation_reason", "moderation_record")}),
        ("Tool approvals", {"fields": ("approvals",)}),
        ("Conversation", {"fields": ("conversation",)}),
        ("Stored ChatKit JSON", {"fields": ("stored_json",), "classes": ("collapse",)}),
    )
    actions = ("lock_threads", "close_threads", "reopen_threads", "export_json", "export_markdown")

    def get_queryset(self, request):
        # A correlated count: computed for the shown rows only, and dropped from the pager's COUNT(*).
        items = (
            models.Item.objects.filter(thread_id=OuterRef("id"))
            .order_by()
            .values("thread_id")
            .annotate(n=Count("seq"))
            .values("n")
        )
        return super().get_queryset(request).annotate(item_count=Subquery(items))

    @admin.display(description="title", ordering="title")
    def display_title(self, obj):
        return Truncator(obj.title).chars(60) if obj.title else f"(untitled {obj.id[:12]}…)"

    @admin.display(description="owner", ordering="owner")
    def owner_display(self, obj):
        url = reverse("admin:chat_thread_changelist") + "?" + urlencode({"owner": obj.owner})
        return format_html(
            '<a href="{}" title="{} · all of this owner\'s threads">{}</a>', url, obj.owner, owner_label(obj)
        )

    @admin.display(description="items", ordering="item_count")
    def item_count(self, obj):
        return obj.item_count or 0

    @admin.display(description="raw rows")
    def links(self, obj):
        def changelist(model, **query):
            return reverse(f"admin:chat_{model}_changelist") + "?" + urlencode(query)

        return format_html(
            '<a href="{}">items</a> · <a href="{}">attachments</a> · <a href="{}">feedback</a> · '
            '<a href="{}">server tool calls</a> · <a href="{}">other threads of this owner</a>',
            changelist("item", thread=obj.id),
            changelist("attachment", thread=obj.id),
            changelist("feedback", thread=obj.id),
            changelist("servertoolcall", thread=obj.id),
            changelist("thread", owner=obj.owner),
        )

    @admin.display(description="approvals")
    def approvals(self, obj):
        """The thread's tool approvals (chat/approvals.py): what was asked, who decided and when; one query.

        Read-only text, not an inline: an inline would add a formset every save of the
        moderation form must carry.
        """
        rows = list(obj.approvals.order_by("created_at")[:50])
        if not rows:
            return "—"
        return format_html_join(
            "",
            "<div>{} · <code>{}</code> · {}{}</div>",
            (
                (
                    a.created_at.strftime("%Y-%m-%d %H:%M"),
                    ", ".join(f"{c.get('name')}({c.get('arguments')})" for c in a.calls or []),
                    a.get_status_display(),
                    f" by {a.decided_by} at {a.decided_at:%Y-%m-%d %H:%M}"
                    if a.decided_at
                    else (f" by {a.decided_by}" if a.decided_by else ""),
                )
                for a in rows
            ),
        )

    @admin.display(description="record")
    def moderation_record(self, obj):
        events = list(obj.moderation_events.all()[:50])
        return render_to_string("chat/admin/moderation_record.html", {"events": events, "thread": obj})

    @admin.display(description="transcript")
    def conversation(self, obj):
        page_arg, item = getattr(obj, "_transcript_query", (None, None))
        if item:
            number = _page_of_item(obj.id, item)
        else:
            try:
                number = int(page_arg or 1)
            except ValueError:
                number = 1
        page = transcript_page(
            obj.id, number, attachment_url=lambda seq: reverse("admin:chat_attachment_file", args=[seq, "download"])
        )
        return render_to_string("chat/admin/transcript.html", {"page": page, "thread": obj})

    @admin.display(description="thread JSON")
    def stored_json(self, obj):
        return pretty_json(obj.data)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:  # the transcript shows ?page= (1 = newest) or the page holding ?item=
            obj._transcript_query = (request.GET.get("page"), request.GET.get("item"))
        return obj

    def save_model(self, request, obj, form, change):
        status_changed = change and "status" in form.changed_data
        if status_changed:  # moderation goes through its one door, with the record
            new_status = obj.status
            obj.status = form.initial.get("status", obj.status)
        # The app reads the JSON, not the columns: keep the title in step.
        obj.data = {**obj.data, "title": obj.title or None}
        super().save_model(request, obj, form, change)
        if status_changed:
            set_status([obj.id], new_status, form.cleaned_data.get("moderation_reason", ""), actor=request.user)
            obj.refresh_from_db()

    # --- moderation actions ---------------------------------------------------

    def _moderate(self, request, queryset, status: str, verb: str, reason_required: bool):
        form = ModerationForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"].strip()
            if reason or not reason_required:
                count = set_status(queryset.values_list("id", flat=True), status, reason, actor=request.user)
                self.message_user(request, f"{count} thread(s) {verb}.", messages.SUCCESS)
                return None
            form.add_error("reason", "Give a reason: the threads' owners will see it.")
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb.capitalize()} {queryset.count()} thread(s)",
            "form": form,
            "threads": queryset[:100],
            "count": queryset.count(),
            "action": request.POST.get("action"),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "opts": self.model._meta,
            "verb": verb,
        }
        return TemplateResponse(request, "chat/admin/moderate.html", context)

    @admin.action(description="Lock selected threads (no new turns), with a reason")
    def lock_threads(self, request, queryset):
        return self._moderate(request, queryset, "locked", "locked", reason_required=True)

    @admin.action(description="Close selected threads, with a reason")
    def close_threads(self, request, queryset):
        return self._moderate(request, queryset, "closed", "closed", reason_required=True)

    @admin.action(description="Reopen selected threads")
    def reopen_threads(self, request, queryset):
        return self._moderate(request, queryset, "active", "reopened", reason_required=False)

    # --- export ---------------------------------------------------------------

    @admin.action(description="Export selected threads as JSON (importable)")
    def export_json(self, request, queryset):
        body = transfer.dumps(transfer.export_threads(queryset))
        return _download(body, "application/json", "threads.json")

    @admin.action(description="Export selected threads as Markdown")
    def export_markdown(self, request, queryset):
        return _download(transfer.threads_markdown(queryset), "text/markdown; charset=utf-8", "threads.md")


def _download(body: str, content_type: str, name: str) -> HttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{stamp}-{name}"'
    return response


def _page_of_item(thread_id: str, item_id: str) -> int:
    """The transcript page (1 = newest) that shows ``item_id`` of ``thread_id``; 1 if it's gone."""
    from .transcript import PAGE_SIZE

    seq = models.Item.objects.filter(thread_id=thread_id, id=item_id).values("seq")[:1]
    newer = models.Item.objects.filter(thread_id=thread_id, seq__gte=Subquery(seq)).count()
    return max(1, -(-newer // PAGE_SIZE))


# --- items ---------------------------------------------------------------------


@admin.register(models.Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("id", "thread", "type", "excerpt", "created_at")
    list_filter = ("type", "created_at")
    search_fields = ("text",)  # see get_search_results
    search_help_text = "Words of the message text, or an item's or thread's id."
    list_select_related = ("thread",)
    readonly_fields = ("seq", "id", "thread", "owner", "type", "created_at", "content", "stored_json")
    exclude = ("data", "text")

    def get_search_results(self, request, queryset, search_term):
        """Each word narrows the list: an id matches exactly, other words the text.

        ``text`` matches ``UPPER(text) LIKE UPPER('%word%')``, which PostgreSQL
        serves from the trigram index (migration 0007); an OR with other
        columns, as the default search would build, could only scan.
        """
        for word in smart_split(search_term):
            if word[:1] in "\"'" and word[:1] == word[-1:]:
                word = unescape_string_literal(word)
            if THREAD_ID.fullmatch(word):
                queryset = queryset.filter(thread_id=word)
            elif ITEM_ID.fullmatch(word):
                queryset = queryset.filter(id=word)
            else:
                queryset = queryset.filter(text__icontains=word)
        return queryset, False

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


# --- attachments ---------------------------------------------------------------


@admin.register(models.Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """Uploads with their owner, thread, size and type; an image preview and a download link.

    The bytes are served by :func:`chat.attachments.file_response` through
    admin URLs (``admin.site.admin_view``: staff only, and the view permission),
    never under a public media URL; owner scoping doesn't apply to staff.
    """

    list_display = ("name", "owner_name", "thread", "size_label", "mime_type", "created_at", "download_link")
    list_filter = ("mime_type", "created_at")
    list_select_related = ("thread",)
    search_fields = ("id", "name", "thread__id")
    readonly_fields = (
        "id",
        "owner",
        "thread",
        "name",
        "mime_type",
        "size_label",
        "created_at",
        "preview",
        "download_link",
        "stored_json",
    )
    exclude = ("data", "file", "size")

    @admin.display(description="owner", ordering="owner")
    def owner_name(self, obj):
        thread = obj.thread
        return owner_label(thread) if thread is not None else owner_label(obj)

    @admin.display(description="size", ordering="size")
    def size_label(self, obj):
        return filesizeformat(obj.size) if obj.size is not None else "—"

    @admin.display(description="preview")
    def preview(self, obj):
        if not obj.file or not obj.mime_type.startswith("image/"):
            return "—"
        url = reverse("admin:chat_attachment_file", args=[obj.pk, "preview"])
        return format_html('<img src="{}" alt="{}" style="max-width:320px;max-height:240px">', url, obj.name)

    @admin.display(description="file")
    def download_link(self, obj):
        return attachment_file_link(obj)

    @admin.display(description="attachment JSON")
    def stored_json(self, obj):
        return pretty_json(obj.data)

    def get_urls(self):
        view = self.admin_site.admin_view(self.file_view)
        return [path("<int:pk>/file/<str:disposition>/", view, name="chat_attachment_file"), *super().get_urls()]

    def file_view(self, request, pk: int, disposition: str):
        """Staff download (``download``) or inline image (``preview``) of one attachment's bytes."""
        from .attachments import file_response

        row = models.Attachment.objects.filter(pk=pk).first()
        if (
            row is None
            or not row.file
            or not self.has_view_permission(request, row)
            or disposition not in ("download", "preview")
        ):
            raise Http404("No such attachment file")
        inline = disposition == "preview" and row.mime_type.startswith("image/")
        return file_response(row, inline=inline)

    def has_add_permission(self, request):
        return False


# --- feedback -------------------------------------------------------------------


@admin.register(models.Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("item_id", "kind", "thread", "answer", "created_at")
    list_filter = ("kind", "created_at")
    search_fields = ("item_id", "thread__id", "thread__title")
    list_select_related = ("thread",)
    readonly_fields = ("thread", "item_id", "owner", "kind", "created_at", "answer")
    change_list_template = "chat/admin/feedback_change_list.html"

    def get_queryset(self, request):
        # The rated item's text in the same query, not one query per row.
        text = models.Item.objects.filter(thread_id=OuterRef("thread_id"), id=OuterRef("item_id")).values("text")[:1]
        return super().get_queryset(request).annotate(answer_text=Subquery(text))

    @admin.display(description="rated item")
    def answer(self, obj):
        if obj.answer_text is None:
            return "(deleted)"
        return format_html(
            '<a href="{}">{}</a>', thread_url(obj.thread.seq, obj.item_id), Truncator(obj.answer_text).chars(120)
        )

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        chart = path("chart/", self.admin_site.admin_view(self.chart_view), name="chat_feedback_chart")
        return [chart, *super().get_urls()]

    def chart_view(self, request):
        """Positive and negative feedback per day over the last ``?days=`` days (default 30), as an SVG chart."""
        try:
            days = min(max(int(request.GET.get("days", 30)), 1), 366)
        except ValueError:
            days = 30
        today = timezone.localdate()
        first = today - timedelta(days=days - 1)
        counts = {
            (row["day"], row["kind"]): row["n"]
            for row in models.Feedback.objects.filter(created_at__date__gte=first)
            .annotate(day=TruncDate("created_at"))
            .values("day", "kind")
            .annotate(n=Count("id"))
            .order_by()
        }
        changelist = reverse("admin:chat_feedback_changelist")
        series = []
        for n in range(days):
            day = first + timedelta(days=n)
            query = {"created_at__gte": day.isoformat(), "created_at__lt": (day + timedelta(days=1)).isoformat()}
            series.append(
                {
                    "day": day,
                    "positive": counts.get((day, "positive"), 0),
                    "negative": counts.get((day, "negative"), 0),
                    "positive_url": changelist + "?" + urlencode({**query, "kind__exact": "positive"}),
                    "negative_url": changelist + "?" + urlencode({**query, "kind__exact": "negative"}),
                }
            )
        recent = list(self.get_queryset(request).select_related("thread").order_by("-created_at")[:20])
        context = {
            **self.admin_site.each_context(request),
            "title": f"Feedback over the last {days} days",
            "opts": self.model._meta,
            "days": days,
            "chart": feedback_chart_svg(series),
            "series": series,
            "totals": {k: sum(d[k] for d in series) for k in ("positive", "negative")},
            "recent": [
                {
                    "row": f,
                    "url": thread_url(f.thread.seq, f.item_id),
                    "text": Truncator(f.answer_text or "(deleted)").chars(140),
                }
                for f in recent
            ],
        }
        return TemplateResponse(request, "chat/admin/feedback_chart.html", context)


def feedback_chart_svg(series: list[dict]) -> str:
    """An inline SVG: one pair of bars per day (positive up in green, negative down in red), each a link."""
    width, height, pad = 720, 220, 24
    middle = height / 2
    peak = max([1] + [max(d["positive"], d["negative"]) for d in series])
    step = (width - 2 * pad) / max(len(series), 1)
    bar = max(step * 0.7, 1)
    scale = (middle - pad) / peak
    parts = [
        format_html('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>', pad, middle, width - pad, middle),
        format_html('<text x="4" y="{}" font-size="11">{}</text>', pad - 8, f"👍 max {peak}"),
        format_html('<text x="4" y="{}" font-size="11">{}</text>', height - 6, "👎"),
    ]
    for n, d in enumerate(series):
        x = pad + n * step + (step - bar) / 2
        label = d["day"].isoformat()
        if d["positive"]:
            h = d["positive"] * scale
            parts.append(
                format_html(
                    '<a href="{}"><rect class="positive" x="{}" y="{}" width="{}" height="{}" fill="#3a9d5d">'
                    "<title>{}: {} positive</title></rect></a>",
                    d["positive_url"],
                    f"{x:.1f}",
                    f"{middle - h:.1f}",
                    f"{bar:.1f}",
                    f"{h:.1f}",
                    label,
                    d["positive"],
                )
            )
        if d["negative"]:
            h = d["negative"] * scale
            parts.append(
                format_html(
                    '<a href="{}"><rect class="negative" x="{}" y="{}" width="{}" height="{}" fill="#c0392b">'
                    "<title>{}: {} negative</title></rect></a>",
                    d["negative_url"],
                    f"{x:.1f}",
                    f"{middle:.1f}",
                    f"{bar:.1f}",
                    f"{h:.1f}",
                    label,
                    d["negative"],
                )
            )
        if n % max(1, len(series) // 6) == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="10" fill="#666">{}</text>', f"{x:.1f}", height - 6, label[5:]
                )
            )
    return format_html(
        '<svg class="feedback-chart" role="img" aria-label="Feedback per day" viewBox="0 0 {} {}" width="{}" height="{}">{}</svg>',
        width,
        height,
        width,
        height,
        format_html_join("", "{}", ((p,) for p in parts)),
    )


# --- server tool calls and moderation events -----------------------------------


@admin.register(models.ServerToolCall)
class ServerToolCallAdmin(admin.ModelAdmin):
    list_display = ("name", "short_arguments", "thread", "created_at", "finished_at")
    list_filter = ("name", "created_at")
    search_fields = ("name", "call_id", "thread__id")
    list_select_related = ("thread",)
    readonly_fields = ("thread", "owner", "call_id", "name", "arguments", "output", "created_at", "finished_at")

    @admin.display(description="arguments")
    def short_arguments(self, obj):
        return Truncator(obj.arguments).chars(80)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.ModerationEvent)
class ModerationEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "thread", "status_from", "status_to", "reason", "actor_name")
    list_filter = ("status_to", "created_at")
    search_fields = ("thread__id", "thread__title", "reason", "actor_name")
    list_select_related = ("thread",)
    readonly_fields = ("thread", "status_from", "status_to", "reason", "actor", "actor_name", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Widget templates and tool approvals have their own admin (registered on import).
from .widgets import admin as widgets_admin  # noqa: E402, F401
