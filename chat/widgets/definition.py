"""A ``.widget`` file checked the way the SDK will use it: parse, validate, build.

A ``.widget`` file is what ChatKit Studio (widgets.chatkit.studio) exports:
``{"version": "1.0", "name", "template": "<Jinja that renders widget JSON>",
"jsonSchema": {...}, ...}``. openai-chatkit's own ``chatkit.widgets.WidgetTemplate``
renders it; this module runs it the same way on sample data before a template
is saved, so a broken one is refused with a message saying what is wrong and
where, instead of failing in a user's conversation.

Sample data comes from, in order: the caller, the file's ``sampleData`` key
(our extension), or the ``defaultState`` inside Studio's ``encodedWidget``.
A template may also declare the actions it sends in an ``actions`` key
(``[{"type": "...", "handler": "server" | "client"}]``, our extension);
the actions found in the built sample are added to them.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from chatkit.widgets import DynamicWidgetRoot, WidgetTemplate
from jinja2 import TemplateError, TemplateSyntaxError
from pydantic import ValidationError

SUPPORTED_VERSION = "1.0"
ACTION_KEYS = ("onClickAction", "onSubmitAction", "onChangeAction", "onSelectAction")


class WidgetInvalid(ValueError):
    """A ``.widget`` definition that can't be used.

    Attributes:
        what: what is wrong, for a person ("'items' is a required property").
        where: the part it is in ("jsonSchema.properties.items", "template line 3",
            "sample data at $.items[0]", "built widget at children.0.type").
    """

    def __init__(self, what: str, where: str = ""):
        self.what = what
        self.where = where
        super().__init__(f"{where}: {what}" if where else what)


@dataclass(frozen=True, slots=True)
class DeclaredAction:
    """An action a template sends: its ``type`` and who handles it (``"server"`` or ``"client"``)."""

    type: str
    handler: str = "server"


@dataclass(frozen=True, slots=True)
class CheckedWidget:
    """A definition that passed every check.

    Attributes:
        definition: the ``.widget`` JSON as given.
        sample: the data it was built from.
        widget: the built widget (the SDK's ``DynamicWidgetRoot``).
        actions: every action it declares or the built sample sends.
    """

    definition: dict[str, Any]
    sample: dict[str, Any]
    widget: DynamicWidgetRoot
    actions: list[DeclaredAction] = field(default_factory=list)


def parse_widget_file(content: str | bytes) -> dict[str, Any]:
    """The JSON object of a ``.widget`` file. Raises :class:`WidgetInvalid` naming the line and column."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WidgetInvalid("the file is not UTF-8 text", f"byte {exc.start}") from None
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise WidgetInvalid(f"not valid JSON: {exc.msg}", f"line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise WidgetInvalid("a .widget file is a JSON object", "top level")
    return data


def studio_sample(definition: dict[str, Any]) -> dict[str, Any] | None:
    """The sample data a file carries (``sampleData``, else Studio's encoded ``defaultState``), or ``None``."""
    if isinstance(definition.get("sampleData"), dict):
        return definition["sampleData"]
    encoded = definition.get("encodedWidget")
    if not isinstance(encoded, str):
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (binascii.Error, ValueError):
        return None  # hand-edited files sometimes carry other text here
    state = decoded.get("defaultState") if isinstance(decoded, dict) else None
    return state if isinstance(state, dict) else None


def _path(parts) -> str:
    return ".".join(str(p) for p in parts)


def check_schema(schema: Any) -> None:
    """Raise :class:`WidgetInvalid` unless ``schema`` is a valid JSON Schema for an object."""
    if not isinstance(schema, dict):
        raise WidgetInvalid("must be a JSON Schema object", "jsonSchema")
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = _path(["jsonSchema", *exc.path]) if exc.path else "jsonSchema"
        raise WidgetInvalid(exc.message, where) from None
    if schema.get("type", "object") != "object":
        raise WidgetInvalid('the data of a widget is an object: set "type": "object"', "jsonSchema.type")


def data_errors(schema: dict[str, Any], data: Any, limit: int = 3) -> list[str]:
    """What is wrong with ``data`` under ``schema``: ``["$.items[0].name: 'x' is too short", ...]`` (empty if valid)."""
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    errors = sorted(validator_class(schema).iter_errors(data), key=lambda e: list(e.path))
    return [f"{e.json_path}: {e.message}" for e in errors[:limit]]


def build(definition: dict[str, Any], data: dict[str, Any]) -> DynamicWidgetRoot:
    """Render the template on ``data`` with the SDK's ``WidgetTemplate``.

    Raises :class:`WidgetInvalid` for a template that fails to render, renders
    something other than JSON, or renders JSON that isn't a widget.
    """
    try:
        template = WidgetTemplate(definition)
    except TemplateSyntaxError as exc:
        raise WidgetInvalid(exc.message or "syntax error", f"template line {exc.lineno}") from None
    except (KeyError, TypeError) as exc:
        raise WidgetInvalid(f"missing or wrong field {exc}", "top level") from None
    except ValueError as exc:
        raise WidgetInvalid(str(exc), "version") from None
    try:
        rendered = template.template.render(**data)
    except TemplateError as exc:
        raise WidgetInvalid(f"rendering failed: {exc}", "template") from None
    except (TypeError, ValueError) as exc:  # e.g. tojson of a value the data doesn't have
        hint = " (a value the template uses is missing from the data)" if "Undefined" in str(exc) else ""
        raise WidgetInvalid(f"rendering failed: {exc}{hint}", "template") from None
    try:
        tree = json.loads(rendered)
    except json.JSONDecodeError as exc:
        excerpt = rendered[max(0, exc.pos - 40) : exc.pos + 40].replace("\n", " ")
        raise WidgetInvalid(
            f"the template rendered invalid JSON ({exc.msg}) near …{excerpt}…",
            f"rendered output line {exc.lineno} column {exc.colno}",
        ) from None
    try:
        return DynamicWidgetRoot.model_validate(tree)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = _path(["built widget", *first["loc"]]) if first["loc"] else "built widget"
        raise WidgetInvalid(first["msg"], where) from None


def check_definition(definition: Any, sample: dict[str, Any] | None = None) -> CheckedWidget:
    """Validate a ``.widget`` definition by building it from sample data, as the SDK will.

    Checks, in order: the fields (``version`` "1.0", ``name``, ``template``
    string, ``jsonSchema``), the schema itself, the sample against the
    schema, then the build (Jinja syntax and rendering, JSON, widget shape).

    Args:
        definition: the parsed file (:func:`parse_widget_file`).
        sample: the data to build from; ``None`` takes the file's own (:func:`studio_sample`).

    Raises :class:`WidgetInvalid` at the first problem.
    """
    if not isinstance(definition, dict):
        raise WidgetInvalid("a .widget definition is a JSON object", "top level")
    if definition.get("version") != SUPPORTED_VERSION:
        raise WidgetInvalid(f'must be "{SUPPORTED_VERSION}" (got {definition.get("version")!r})', "version")
    if not isinstance(definition.get("template"), str) or not definition["template"].strip():
        raise WidgetInvalid("must be the Jinja template text, a non-empty string", "template")
    if not isinstance(definition.get("name"), str):
        raise WidgetInvalid("must be a string", "name")
    schema = definition.get("jsonSchema")
    check_schema(schema)
    if sample is None:
        sample = studio_sample(definition)
    if sample is None:
        raise WidgetInvalid(
            'no sample data to build the widget from: give sample data, or add a "sampleData" object to the file',
            "sample data",
        )
    if not isinstance(sample, dict):
        raise WidgetInvalid("must be a JSON object", "sample data")
    problems = data_errors(schema, sample)
    if problems:
        raise WidgetInvalid("does not match the schema: " + "; ".join(problems), "sample data")
    widget = build(definition, sample)
    return CheckedWidget(
        definition=definition, sample=sample, widget=widget, actions=declared_actions(definition, widget)
    )


def declared_actions(
    definition: dict[str, Any], widget: DynamicWidgetRoot | dict | None = None
) -> list[DeclaredAction]:
    """The actions a template sends: its ``actions`` key plus those in a built widget, by type."""
    found: dict[str, DeclaredAction] = {}
    for entry in definition.get("actions") or []:
        if isinstance(entry, dict) and isinstance(entry.get("type"), str):
            found.setdefault(entry["type"], DeclaredAction(entry["type"], entry.get("handler") or "server"))
        elif isinstance(entry, str):
            found.setdefault(entry, DeclaredAction(entry))
    tree = widget.model_dump(exclude_none=True) if isinstance(widget, DynamicWidgetRoot) else widget
    for config in action_configs(tree):
        found.setdefault(config["type"], DeclaredAction(config["type"], config.get("handler") or "server"))
    return list(found.values())


def action_configs(node: Any):
    """Every ``ActionConfig`` dict in a widget tree (buttons, list items, forms, card confirm/cancel)."""
    if isinstance(node, dict):
        for key in ACTION_KEYS:
            config = node.get(key)
            if isinstance(config, dict) and isinstance(config.get("type"), str):
                yield config
        for key in ("confirm", "cancel"):
            config = (node.get(key) or {}).get("action") if isinstance(node.get(key), dict) else None
            if isinstance(config, dict) and isinstance(config.get("type"), str):
                yield config
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from action_configs(value)
    elif isinstance(node, list):
        for value in node:
            yield from action_configs(value)
