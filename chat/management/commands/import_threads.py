"""``manage.py import_threads FILE [--owner OWNER]``: load threads exported by ``export_threads``.

All or nothing (:func:`chat.transfer.import_threads`): a malformed file, a thread
or attachment that exists already, or an owner this installation lacks stops the
import with a message and nothing is written. ``-`` reads standard input.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from chat import transfer


class Command(BaseCommand):
    help = "Import threads from a JSON file written by export_threads (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the JSON file, or - for standard input")
        parser.add_argument(
            "--owner", help='give every thread to this owner key (e.g. "user:3") instead of the file\'s'
        )

    def handle(self, *args, file, owner, **options):
        try:
            if file == "-":
                document = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as handle:
                    document = json.load(handle)
        except OSError as exc:
            raise CommandError(f"Can't read {file}: {exc}") from None
        except ValueError as exc:
            raise CommandError(f"{file} is not JSON: {exc}. Nothing was imported.") from None
        try:
            ids = transfer.import_threads(document, owner=owner)
        except transfer.ImportRefused as exc:
            raise CommandError(f"Refused {file}: {exc}. Nothing was imported.") from None
        self.stdout.write(self.style.SUCCESS(f"Imported {len(ids)} thread(s)."))
        for thread_id in ids:
            self.stdout.write(f"  {thread_id}")
