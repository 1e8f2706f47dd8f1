"""Load the widget templates that ship with the app (disabled: an admin enables them)."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "widgets" / "data"
SHIPPED = ("choice_card", "summary_card", "form", "table")


def load(apps, schema_editor):
    from chat.widgets.definition import check_definition

    Template = apps.get_model("chat", "WidgetTemplate")
    Version = apps.get_model("chat", "WidgetTemplateVersion")
    for slug in SHIPPED:
        definition = json.loads((DATA / f"{slug}.widget").read_text())
        checked = check_definition(definition)
        if Template.objects.filter(slug=slug).exists():
            continue
        template = Template.objects.create(
            slug=slug,
            title=definition.get("title") or definition["name"],
            description=definition["description"],
            definition=definition,
            sample_data=checked.sample,
            enabled=False,
            version=1,
        )
        Version.objects.create(
            template=template, version=1, title=template.title, description=template.description,
            definition=definition, sample_data=checked.sample, created_by="shipped with the app",
        )


def unload(apps, schema_editor):
    apps.get_model("chat", "WidgetTemplate").objects.filter(slug__in=SHIPPED, version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("chat", "0005_widget_templates_and_approvals")]
    operations = [migrations.RunPython(load, unload)]
