"""``manage.py loadwidgets FILE...``: load ChatKit Studio ``.widget`` files as widget templates.

Each file becomes (or updates) the template named after it
(``flight_options.widget`` -> slug ``flight_options``), validated exactly as
the admin validates an upload (:mod:`chat.widgets.definition`). All or
nothing: if any file is broken, the command lists every problem, writes
nothing and exits with status 1.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from chat.widgets.definition import WidgetInvalid
from chat.widgets.templates import load_files


class Command(BaseCommand):
    help = "Validate and load ChatKit Studio .widget files as widget templates (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="a .widget file")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--enable", action="store_true", help="offer the templates to the agent at once")
        group.add_argument("--disable", action="store_true", help="load them disabled")

    def handle(self, *args, files, enable, disable, **options):
        try:
            saved = load_files(files, enable=True if enable else False if disable else None)
        except WidgetInvalid as exc:
            raise CommandError(f"Nothing was loaded. {exc}") from None
        for template in saved:
            state = "enabled" if template.enabled else "disabled"
            self.stdout.write(f"{template.slug} v{template.version} ({state}): tool {template.tool_name}")
        self.stdout.write(self.style.SUCCESS(f"Loaded {len(saved)} widget template(s)."))
