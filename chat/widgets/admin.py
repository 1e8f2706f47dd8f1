"""The admin of widget templates (upload or paste, validate, preview, versions, rollback) and of approvals.

Registered from :mod:`chat.admin`. Saving a template validates it
(:func:`chat.widgets.definition.check_definition`); a broken one is refused
on the form with what is wrong and where. The change page shows the widget
built from the sample data as JSON and as a preview drawn by the built-in
client's own renderer (``frontend/src/widgetPreview.tsx``, served at
``<id>/preview/`` in an iframe), the actions the template sends with
whether a handler exists, and every saved version with a rollback button.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.clickjacking import xframe_options_sameorigin

from .. import models
from ..actions import find_action
from .definition import WidgetInvalid, build, check_definition, declared_actions, parse_widget_file
from .templates import rollback, save_template, slug_for

try:  # django-csp, where the project uses it: the preview is framed by the admin's own page
    from csp.decorators import csp_replace
except ImportError:  # no Content-Security-Policy to relax

    def csp_replace(config):
        return lambda view: view


MAX_UPLOAD_BYTES = 512 * 1024


class WidgetTemplateForm(forms.ModelForm):
    """Upload a ``.widget`` file or paste its JSON; both are validated the same way."""

    upload = forms.FileField(
        required=False,
        label="Upload a .widget file",
        help_text="A ChatKit Studio export. Replaces the pasted definition.",
    )
    definition_text = forms.CharField(
        required=False,
        label="Definition",
        widget=forms.Textarea(attrs={"rows": 14, "cols": 100, "spellcheck": "false", "style": "font-family:monospace"}),
        help_text="Or paste the .widget file's JSON here.",
    )
    sample_text = forms.CharField(
        required=False,
        label="Sample data",
        widget=forms.Textarea(attrs={"rows": 6, "cols": 100, "spellcheck": "false", "style": "font-family:monospace"}),
        help_text="JSON matching the schema; the preview is built from it. Empty: the file's own sample.",
    )

    class Meta:
        model = models.WidgetTemplate
        fields = ("slug", "title", "description", "enabled", "needs_approval")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("slug", "title", "description"):
            self.fields[name].required = False  # filled from the file when left empty
        if self.instance.pk:
            self.fields["definition_text"].initial = json.dumps(self.instance.definition, indent=2, ensure_ascii=False)
            self.fields["sample_text"].initial = json.dumps(self.instance.sample_data, indent=2, ensure_ascii=False)

    def _json_field(self, name: str, text: str):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}") from None

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        field = "upload" if upload else "definition_text"
        try:
            if upload:
                if upload.size > MAX_UPLOAD_BYTES:
                    raise WidgetInvalid(f"the file is over {MAX_UPLOAD_BYTES // 1024} KiB", upload.name)
                definition = parse_widget_file(upload.read())
            elif (cleaned.get("definition_text") or "").strip():
                definition = parse_widget_file(cleaned["definition_text"])
            else:
                self.add_error("definition_text", "Upload a .widget file or paste its content.")
                return cleaned
        except WidgetInvalid as exc:
            self.add_error(field, str(exc))
            return cleaned

        sample = None
        sample_text = (cleaned.get("sample_text") or "").strip()
        if sample_text and not upload:
            try:
                sample = self._json_field("sample_text", sample_text)
            except forms.ValidationError as exc:
                self.add_error("sample_text", exc)
                return cleaned
        try:
            checked = check_definition(definition, sample)
        except WidgetInvalid as exc:
            self.add_error("sample_text" if exc.where == "sample data" else field, str(exc))
            return cleaned

        name = definition.get("title") or definition.get("name") or ""
        cleaned["title"] = cleaned.get("title") or str(name)[:120] or "Widget"
        cleaned["slug"] = cleaned.get("slug") or slug_for(upload.name if upload else cleaned["title"])
        cleaned["description"] = (
            cleaned.get("description")
            or definition.get("description")
            or f"Show the “{cleaned['title']}” widget to the user, filled with the data given."
        )
        clash = models.WidgetTemplate.objects.filter(slug=cleaned["slug"]).exclude(pk=self.instance.pk)
        if clash.exists():
            self.add_error("slug", f"A template with the slug {cleaned['slug']!r} exists already.")
        for name in ("title", "slug", "description"):
            setattr(self.instance, name, cleaned[name])
        self.checked = checked
        return cleaned


class WidgetTemplateVersionInline(admin.TabularInline):
    model = models.WidgetTemplateVersion
    fields = ("version", "title", "created_at", "created_by", "restore")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-version",)

    @admin.display(description="")
    def restore(self, obj):
        if obj.version == obj.template.version:
            return "current"
        # The button submits a small form outside the change form (widgettemplate_change_form.html).
        return format_html(
            '<button type="submit" form="rollback-{v}" class="button">Roll back to v{v}</button>', v=obj.version
        )

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.WidgetTemplate)
class WidgetTemplateAdmin(admin.ModelAdmin):
    form = WidgetTemplateForm
    list_display = ("title", "slug", "tool", "enabled", "needs_approval", "version", "updated_at")
    list_editable = ("enabled", "needs_approval")
    list_filter = ("enabled", "needs_approval")
    search_fields = ("slug", "title", "description")
    readonly_fields = ("tool", "version", "updated_at", "actions_sent", "built_json", "preview")
    inlines = (WidgetTemplateVersionInline,)
    change_form_template = "chat/admin/widgettemplate_change_form.html"

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ("title", "slug", "description", "enabled", "needs_approval")}),
            ("Definition", {"fields": ("upload", "definition_text", "sample_text")}),
        ]
        if obj is not None:
            fieldsets[0][1]["fields"] = (
                "title",
                "slug",
                "tool",
                "version",
                "updated_at",
                "description",
                "enabled",
                "needs_approval",
            )
            fieldsets.append(
                (
                    "Preview (the sample data, drawn by the built-in client's renderer)",
                    {"fields": ("preview", "built_json")},
                )
            )
            fieldsets.append(("Actions", {"fields": ("actions_sent",)}))
        return fieldsets

    @admin.display(description="tool")
    def tool(self, obj):
        return obj.tool_name

    @admin.display(description="built widget JSON")
    def built_json(self, obj):
        try:
            widget = build(obj.definition, obj.sample_data).model_dump(exclude_none=True)
        except WidgetInvalid as exc:
            return format_html("<p class='errornote'>{}</p>", str(exc))
        return format_html(
            "<pre data-testid='built-json' style='white-space:pre-wrap;max-width:70em;max-height:24em;overflow:auto'>{}</pre>",
            json.dumps(widget, indent=2, ensure_ascii=False),
        )

    @admin.display(description="preview")
    def preview(self, obj):
        url = reverse("admin:chat_widgettemplate_preview", args=[obj.pk])
        return format_html(
            '<iframe src="{}" title="Widget preview" data-testid="widget-preview-frame" '
            'style="width:100%;max-width:40em;height:26em;border:1px solid var(--hairline-color,#ddd);border-radius:8px;background:#fff"></iframe>',
            url,
        )

    @admin.display(description="actions it sends")
    def actions_sent(self, obj):
        found = declared_actions(obj.definition, _built_or_none(obj))
        if not found:
            return "None."
        rows = []
        for entry in found:
            if entry.handler == "client":
                status = "handled in the browser (widgets.onAction / the built-in client)"
            else:
                kinds = [k for k, sync in (("streaming", False), ("sync", True)) if find_action(entry.type, sync=sync)]
                status = f"handler registered ({', '.join(kinds)})" if kinds else "NO HANDLER: the server refuses it"
            rows.append((entry.type, entry.handler, status))
        return format_html(
            "<table data-testid='widget-actions'><tr><th>type</th><th>handler</th><th>status</th></tr>{}</table>",
            format_html_join("", "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", rows),
        )

    def save_model(self, request, obj, form, change):
        checked = getattr(form, "checked", None)
        definition, sample = (checked.definition, checked.sample) if checked else (obj.definition, obj.sample_data)
        save_template(obj, definition=definition, sample=sample, by=request.user.get_username())

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="chat_widgettemplate_preview",
            ),
            path(
                "<path:object_id>/rollback/<int:version>/",
                self.admin_site.admin_view(self.rollback_view),
                name="chat_widgettemplate_rollback",
            ),
        ]
        return own + super().get_urls()

    @xframe_options_sameorigin
    @csp_replace({"frame-ancestors": ["'self'"]})
    def preview_view(self, request, object_id):
        """The widget built from the sample data, drawn by the built-in client's renderer (for the iframe)."""
        obj = get_object_or_404(models.WidgetTemplate, pk=object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        try:
            widget, error = build(obj.definition, obj.sample_data).model_dump(exclude_none=True), ""
        except WidgetInvalid as exc:
            widget, error = None, str(exc)
        return render(
            request, "chat/admin/widget_preview.html", {"preview": {"widget": widget, "error": error}, "template": obj}
        )

    def rollback_view(self, request, object_id, version):
        """POST: make ``version`` current again (as a new version)."""
        if request.method != "POST":
            raise Http404
        obj = get_object_or_404(models.WidgetTemplate, pk=object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        try:
            rollback(obj, version, by=request.user.get_username())
        except models.WidgetTemplateVersion.DoesNotExist:
            raise Http404 from None
        except WidgetInvalid as exc:
            self.message_user(request, f"Version {version} no longer validates: {exc}", messages.ERROR)
        else:
            self.message_user(
                request, f"Rolled back to version {version}; it is now version {obj.version}.", messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:chat_widgettemplate_change", args=[obj.pk]))


def _built_or_none(obj):
    try:
        return build(obj.definition, obj.sample_data)
    except WidgetInvalid:
        return None


@admin.register(models.ToolApproval)
class ToolApprovalAdmin(admin.ModelAdmin):
    list_display = ("__str__", "thread", "status", "decided_by", "created_at", "decided_at")
    list_filter = ("status", "created_at")
    search_fields = ("id", "thread__id", "thread__title", "decided_by")
    readonly_fields = (
        "id",
        "thread",
        "owner",
        "item_id",
        "calls",
        "model",
        "status",
        "created_at",
        "decided_at",
        "decided_by",
    )
    exclude = ("state",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
