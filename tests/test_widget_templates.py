"""Widget template validation (the SDK's own ``WidgetTemplate``), versions, rollback and ``loadwidgets``.

Uses the shipped templates and real ChatKit Studio exports from OpenAI's samples (``tests/widgets/``).
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chat import models
from chat.widgets.definition import WidgetInvalid, check_definition, parse_widget_file
from chat.widgets.templates import DATA_DIR, SHIPPED, load_files, rollback, save_template

SAMPLES = Path(__file__).resolve().parent / "widgets"


def shipped(slug: str) -> dict:
    return parse_widget_file((DATA_DIR / f"{slug}.widget").read_bytes())


@pytest.mark.parametrize("slug", [*SHIPPED, "approval_card"])
def test_every_shipped_template_builds_from_its_sample(slug):
    checked = check_definition(shipped(slug))
    assert checked.widget.type == "Card"


def test_studio_exports_validate_with_their_encoded_sample():
    checked = check_definition(parse_widget_file((SAMPLES / "cat_name_suggestions.widget").read_bytes()))
    assert checked.widget.type == "ListView"
    assert checked.sample["items"][0]["name"] == "Willow"
    assert {(a.type, a.handler) for a in checked.actions} == {
        ("cats.select_name", "client"),
        ("cats.more_names", "client"),
    }
    events = check_definition(parse_widget_file((SAMPLES / "event_list.widget").read_bytes()))
    assert [(a.type, a.handler) for a in events.actions] == [("view_event_details", "server")]


def test_a_file_without_sample_needs_one():
    definition = parse_widget_file((SAMPLES / "meal_preferences.widget").read_bytes())
    with pytest.raises(WidgetInvalid) as refused:
        check_definition(definition)
    assert refused.value.where == "sample data" and "no sample data" in refused.value.what
    sample = {"options": [{"value": "veg", "label": "Vegetarian"}], "selected": None, "actionType": "meal.pick"}
    assert check_definition(definition, sample).widget.type == "ListView"


def test_a_studio_sample_that_leaves_out_a_value_the_template_uses_is_refused():
    with pytest.raises(WidgetInvalid) as refused:
        check_definition(parse_widget_file((SAMPLES / "line_select.widget").read_bytes()))
    assert refused.value.where == "template" and "missing from the data" in refused.value.what


def test_broken_json_names_the_line():
    with pytest.raises(WidgetInvalid) as refused:
        parse_widget_file(b'{\n  "version": "1.0",\n  "name": oops\n}')
    assert refused.value.where == "line 3 column 11" and "not valid JSON" in refused.value.what


def test_a_broken_template_names_the_line():
    definition = shipped("choice_card")
    definition["template"] = '{"type": "Card",\n "children": [\n {% for o in options %}{{ o.label | tojson }\n]}'
    with pytest.raises(WidgetInvalid) as refused:
        check_definition(definition)
    assert refused.value.where == "template line 3"


def test_a_template_that_renders_bad_json_or_no_widget_is_refused():
    definition = shipped("choice_card")
    definition["template"] = '{"type": "Card", "children": [{{ question | tojson }},]}'
    with pytest.raises(WidgetInvalid) as refused:
        check_definition(definition)
    assert refused.value.where.startswith("rendered output line 1") and "invalid JSON" in refused.value.what

    definition["template"] = '{"type": "Button", "label": {{ question | tojson }}}'
    with pytest.raises(WidgetInvalid) as refused:
        check_definition(definition)
    assert refused.value.where == "built widget.type"


def test_a_broken_schema_names_the_keyword():
    definition = shipped("choice_card")
    definition["jsonSchema"]["properties"]["options"]["minItems"] = "two"
    with pytest.raises(WidgetInvalid) as refused:
        check_definition(definition)
    assert refused.value.where == "jsonSchema.properties.options.minItems"
    assert "'two' is not of type 'integer'" in refused.value.what


def test_a_sample_that_does_not_match_the_schema_says_where():
    definition = shipped("choice_card")
    bad = {"question": "Pick", "options": [{"label": "A", "value": "a"}, {"label": "B"}]}
    with pytest.raises(WidgetInvalid) as refused:
        check_definition(definition, bad)
    assert refused.value.where == "sample data"
    assert "$.options[1]: 'value' is a required property" in refused.value.what


def test_wrong_version_is_refused():
    definition = {**shipped("table"), "version": "2.0"}
    with pytest.raises(WidgetInvalid) as refused:
        check_definition(definition)
    assert refused.value.where == "version"


@pytest.mark.django_db
def test_every_change_is_a_version_and_rollback_restores_one():
    template = models.WidgetTemplate(slug="plans", title="Plans", description="Pick a plan.")
    save_template(template, definition=shipped("choice_card"), by="alice")
    assert template.version == 1
    save_template(template, definition=shipped("choice_card"), by="alice")
    assert template.version == 1  # nothing changed, no new version

    changed = shipped("choice_card")
    changed["template"] = changed["template"].replace('"size":"sm"', '"size":"md"', 1)
    save_template(template, definition=changed, by="bob")
    assert template.version == 2 and '"size":"md"' in template.definition["template"]

    rollback(template, 1, by="carol")
    template.refresh_from_db()
    assert template.version == 3 and template.definition == shipped("choice_card")
    assert [(v.version, v.created_by) for v in template.versions.all()] == [(3, "carol"), (2, "bob"), (1, "alice")]


@pytest.mark.django_db
def test_a_broken_change_writes_nothing():
    template = models.WidgetTemplate(slug="plans", title="Plans", description="Pick a plan.")
    save_template(template, definition=shipped("choice_card"))
    broken = {**shipped("choice_card"), "template": "{% for %}"}
    with pytest.raises(WidgetInvalid):
        save_template(template, definition=broken)
    template.refresh_from_db()
    assert template.version == 1 and template.definition == shipped("choice_card")


@pytest.mark.django_db
def test_the_data_migration_shipped_the_templates_disabled():
    rows = {t.slug: t for t in models.WidgetTemplate.objects.all()}
    assert set(SHIPPED) <= set(rows)
    assert not any(rows[slug].enabled for slug in SHIPPED)
    assert rows["choice_card"].versions.count() == 1


@pytest.mark.django_db
def test_loadwidgets_loads_studio_files():
    out = StringIO()
    call_command(
        "loadwidgets",
        str(SAMPLES / "cat_name_suggestions.widget"),
        str(SAMPLES / "event_list.widget"),
        "--enable",
        stdout=out,
    )
    assert "Loaded 2 widget template(s)" in out.getvalue()
    cats = models.WidgetTemplate.objects.get(slug="cat_name_suggestions")
    assert cats.enabled and cats.tool_name == "widget_cat_name_suggestions" and cats.title == "Name suggestions"
    assert cats.sample_data["items"][0]["name"] == "Willow"
    # Loading again changes nothing: no new version.
    call_command("loadwidgets", str(SAMPLES / "cat_name_suggestions.widget"), stdout=StringIO())
    assert models.WidgetTemplate.objects.get(slug="cat_name_suggestions").version == 1


@pytest.mark.django_db
def test_loadwidgets_is_all_or_nothing(tmp_path):
    broken = tmp_path / "broken.widget"
    broken.write_text(json.dumps({**shipped("table"), "jsonSchema": {"type": "object", "required": "title"}}))
    before = models.WidgetTemplate.objects.count()
    with pytest.raises(CommandError) as failed:
        call_command(
            "loadwidgets", str(SAMPLES / "event_list.widget"), str(broken), str(SAMPLES / "line_select.widget")
        )
    message = str(failed.value)
    assert message.startswith("Nothing was loaded.")
    assert "broken.widget, jsonSchema.required" in message and "line_select.widget, template" in message
    assert models.WidgetTemplate.objects.count() == before


def test_loadwidgets_exits_non_zero_from_the_shell(tmp_path):
    import subprocess
    import sys

    from tests.servers import PROJECT, server_env

    env = server_env(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=PROJECT, env=env, check=True)
    run = subprocess.run(
        [sys.executable, "manage.py", "loadwidgets", str(SAMPLES / "line_select.widget")],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "line_select.widget, template" in run.stderr


def test_load_files_reports_a_missing_file(tmp_path):
    with pytest.raises(WidgetInvalid) as refused:
        load_files([tmp_path / "nope.widget"])
    assert "nope.widget" in str(refused.value)
