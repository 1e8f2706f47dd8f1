"""Saving widget templates: validation, versions, rollback, loading ``.widget`` files.

Every write of a :class:`chat.models.WidgetTemplate` goes through
:func:`save_template`, which validates the definition (:mod:`.definition`),
bumps ``version`` when something changed and keeps that state as a
:class:`chat.models.WidgetTemplateVersion`. The admin, ``manage.py
loadwidgets`` and the data migration all use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from .. import models
from .definition import CheckedWidget, WidgetInvalid, check_definition, parse_widget_file

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED = ("choice_card", "summary_card", "form", "table")
"""The templates that ship with the app (``data/<slug>.widget``), loaded disabled by the data migration."""

APPROVAL_CARD = DATA_DIR / "approval_card.widget"


@dataclass(frozen=True, slots=True)
class WidgetFile:
    """A ``.widget`` file read and checked, ready to save.

    Attributes:
        slug: the template's slug (the file name without ``.widget``).
        title: the file's ``title``, else its ``name``.
        description: the file's ``description`` (for the model), else a default.
        checked: the validated definition and its sample.
    """

    slug: str
    title: str
    description: str
    checked: CheckedWidget


def slug_for(name: str) -> str:
    """A template slug from a file or widget name: ``"Flight options.widget"`` -> ``"flight_options"``."""
    return slugify(name.removesuffix(".widget")).replace("-", "_")[:48] or "widget"


def read_widget_file(path: str | Path) -> WidgetFile:
    """Read and validate one ``.widget`` file. Raises :class:`WidgetInvalid` (its message names the file)."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise WidgetInvalid(exc.strerror or str(exc), str(path)) from None
    try:
        definition = parse_widget_file(content)
        checked = check_definition(definition)
    except WidgetInvalid as exc:
        raise WidgetInvalid(exc.what, f"{path.name}, {exc.where}" if exc.where else path.name) from None
    name = definition.get("title") or definition.get("name") or path.stem
    description = definition.get("description") or f"Show the “{name}” widget to the user, filled with the data given."
    return WidgetFile(slug=slug_for(path.name), title=str(name)[:120], description=str(description), checked=checked)


def save_template(
    template: models.WidgetTemplate,
    *,
    definition: dict[str, Any],
    sample: dict[str, Any] | None = None,
    by: str = "",
) -> models.WidgetTemplate:
    """Validate and save ``template`` with ``definition``; keep the result as a new version.

    ``title``, ``description``, ``enabled`` and ``needs_approval`` are taken
    from ``template`` as set by the caller. The version grows only when the
    definition, sample, title or description changed. Raises :class:`WidgetInvalid`
    (nothing is written).
    """
    checked = check_definition(definition, sample)
    template.definition = checked.definition
    template.sample_data = checked.sample
    with transaction.atomic():
        latest = template.versions.first() if template.pk else None
        changed = latest is None or (
            latest.definition,
            latest.sample_data,
            latest.title,
            latest.description,
        ) != (template.definition, template.sample_data, template.title, template.description)
        if changed and latest is not None:
            template.version = latest.version + 1
        template.save()
        if changed:
            models.WidgetTemplateVersion.objects.create(
                template=template,
                version=template.version,
                title=template.title,
                description=template.description,
                definition=template.definition,
                sample_data=template.sample_data,
                created_by=by,
            )
    return template


def rollback(template: models.WidgetTemplate, version: int, *, by: str = "") -> models.WidgetTemplate:
    """Make ``version``'s definition current again, as a new version. Raises ``WidgetTemplateVersion.DoesNotExist``."""
    old = template.versions.get(version=version)
    template.title, template.description = old.title, old.description
    return save_template(
        template, definition=old.definition, sample=old.sample_data, by=by or f"rollback to v{version}"
    )


def load_files(
    paths: list[str | Path], *, by: str = "loadwidgets", enable: bool | None = None
) -> list[models.WidgetTemplate]:
    """Validate every file, then create or update their templates, all or nothing.

    A template that exists keeps its ``enabled`` flag unless ``enable`` says
    otherwise; a new one is created disabled unless ``enable`` is true.
    Raises :class:`WidgetInvalid` listing every broken file before anything is written.
    """
    files, problems = [], []
    for path in paths:
        try:
            files.append(read_widget_file(path))
        except WidgetInvalid as exc:
            problems.append(str(exc))
    if problems:
        raise WidgetInvalid("; ".join(problems))
    saved = []
    with transaction.atomic():
        for file in files:
            template = models.WidgetTemplate.objects.filter(slug=file.slug).first() or models.WidgetTemplate(
                slug=file.slug, enabled=bool(enable)
            )
            template.title, template.description = file.title, file.description
            if enable is not None:
                template.enabled = enable
            saved.append(save_template(template, definition=file.checked.definition, sample=file.checked.sample, by=by))
    return saved


def load_shipped(enable: bool = False) -> list[models.WidgetTemplate]:
    """Load the templates in :data:`SHIPPED` (the data migration calls this)."""
    return load_files([DATA_DIR / f"{slug}.widget" for slug in SHIPPED], by="shipped with the app", enable=enable)
