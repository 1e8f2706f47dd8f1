"""The widget templates' admin: upload or paste, refusal with what and where, preview, actions, rollback; approvals on a thread's page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chat import models
from chat.widgets.templates import DATA_DIR, load_files

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parent / "widgets"


def form_data(**overrides) -> dict:
    data = {
        "title": "",
        "slug": "",
        "description": "",
        "definition_text": "",
        "sample_text": "",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_uploading_a_studio_file_creates_a_template(admin_client):
    content = (SAMPLES / "cat_name_suggestions.widget").read_bytes()
    upload = SimpleUploadedFile("cat_name_suggestions.widget", content, content_type="application/json")
    response = admin_client.post(
        reverse("admin:chat_widgettemplate_add"), {**form_data(enabled="on"), "upload": upload}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    template = models.WidgetTemplate.objects.get(slug="cat_name_suggestions")
    assert template.enabled and template.title == "Name suggestions" and template.version == 1
    assert template.versions.get().created_by == "admin"


def test_a_broken_upload_is_refused_with_what_and_where(admin_client):
    definition = json.loads((DATA_DIR / "choice_card.widget").read_text())
    definition["jsonSchema"]["properties"]["options"]["minItems"] = "two"
    upload = SimpleUploadedFile("plans.widget", json.dumps(definition).encode())
    response = admin_client.post(reverse("admin:chat_widgettemplate_add"), {**form_data(), "upload": upload})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "jsonSchema.properties.options.minItems: 'two' is not of type 'integer'" in errors["upload"][0]
    assert not models.WidgetTemplate.objects.filter(slug="plans").exists()


def test_pasted_json_errors_name_the_line_and_bad_samples_the_path(admin_client):
    response = admin_client.post(
        reverse("admin:chat_widgettemplate_add"), form_data(definition_text='{\n "version": "1.0",\n oops}')
    )
    assert "line 3 column 2: not valid JSON" in response.context["adminform"].form.errors["definition_text"][0]

    pasted = (DATA_DIR / "choice_card.widget").read_text()
    bad_sample = json.dumps({"question": "Pick", "options": [{"label": "A"}, {"label": "B", "value": "b"}]})
    response = admin_client.post(
        reverse("admin:chat_widgettemplate_add"), form_data(definition_text=pasted, sample_text=bad_sample)
    )
    error = response.context["adminform"].form.errors["sample_text"][0]
    assert (
        error.startswith("sample data: does not match the schema")
        and "$.options[0]: 'value' is a required property" in error
    )


def test_the_change_page_shows_json_preview_actions_and_versions(admin_client):
    load_files([DATA_DIR / "choice_card.widget"], enable=True)
    load_files([SAMPLES / "cat_name_suggestions.widget"])
    template = models.WidgetTemplate.objects.get(slug="choice_card")
    page = admin_client.get(reverse("admin:chat_widgettemplate_change", args=[template.pk])).content.decode()
    assert "data-testid='built-json'" in page and "Which plan suits you?" in page
    assert reverse("admin:chat_widgettemplate_preview", args=[template.pk]) in page
    assert "<code>widget.choose</code>" in page and "handler registered (streaming, sync)" in page
    assert "widget_choice_card" in page

    cats = models.WidgetTemplate.objects.get(slug="cat_name_suggestions")
    page = admin_client.get(reverse("admin:chat_widgettemplate_change", args=[cats.pk])).content.decode()
    assert "<code>cats.select_name</code>" in page and "handled in the browser" in page

    preview = admin_client.get(reverse("admin:chat_widgettemplate_preview", args=[template.pk]))
    assert preview.status_code == 200 and preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert b'id="widget-preview-data"' in preview.content and b"widgetPreview" in preview.content


def test_editing_keeps_versions_and_rollback_restores(admin_client):
    [template] = load_files([DATA_DIR / "table.widget"])
    url = reverse("admin:chat_widgettemplate_change", args=[template.pk])
    changed = json.loads((DATA_DIR / "table.widget").read_text())
    changed["template"] = changed["template"].replace('"size":"lg"', '"size":"full"')
    response = admin_client.post(
        url,
        form_data(
            title="Table",
            slug="table",
            description="A table.",
            enabled="on",
            definition_text=json.dumps(changed),
            sample_text=json.dumps(template.sample_data),
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    template.refresh_from_db()
    assert template.version == 2 and template.enabled and '"size":"full"' in template.definition["template"]

    page = admin_client.get(url).content.decode()
    assert 'form="rollback-1"' in page and 'id="rollback-1"' in page
    response = admin_client.post(reverse("admin:chat_widgettemplate_rollback", args=[template.pk, 1]))
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.version == 3 and '"size":"lg"' in template.definition["template"]
    assert admin_client.get(reverse("admin:chat_widgettemplate_rollback", args=[template.pk, 1])).status_code == 404


def test_enabling_from_the_list_keeps_the_version(admin_client):
    [template] = load_files([DATA_DIR / "form.widget"])
    response = admin_client.post(
        reverse("admin:chat_widgettemplate_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(template.pk),
            "form-0-enabled": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.enabled and template.version == 1


def test_a_thread_page_shows_its_approvals(admin_client):
    from tests.factories import make_context, make_thread
    from chat.store import DjangoStore
    from asgiref.sync import async_to_sync

    ctx, thread = make_context(), make_thread("Emails")
    async_to_sync(DjangoStore().save_thread)(thread, ctx)
    models.ToolApproval.objects.create(
        id="apr_1",
        thread_id=thread.id,
        owner=ctx.owner,
        item_id="msg_1",
        state={},
        calls=[{"name": "send_email", "arguments": '{"to": "ana@example.com"}'}],
        status="approved",
        decided_by="alice",
    )
    row = models.Thread.objects.get(id=thread.id)
    page = admin_client.get(reverse("admin:chat_thread_change", args=[row.pk])).content.decode()
    assert "send_email" in page and "ana@example.com" in page and "alice" in page and "Approved" in page


def test_the_preview_may_be_framed_by_the_admin_under_a_csp(admin_client, settings):
    pytest.importorskip("csp")
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "csp.middleware.CSPMiddleware"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "frame-ancestors": ["'none'"]}}
    [template] = load_files([DATA_DIR / "table.widget"])
    preview = admin_client.get(reverse("admin:chat_widgettemplate_preview", args=[template.pk]))
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    page = admin_client.get(reverse("admin:chat_widgettemplate_change", args=[template.pk]))
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
