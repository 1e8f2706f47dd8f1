"""``manage.py export_threads [ID ...] [--owner OWNER] [--format json|markdown] [--output FILE]``.

Writes threads as JSON that ``manage.py import_threads`` loads back (see
:mod:`chat.transfer`), or as a readable Markdown transcript. With no ids and
no ``--owner``, every thread. To standard output unless ``--output`` names a file.
"""

from django.core.management.base import BaseCommand, CommandError

from chat import models, transfer


class Command(BaseCommand):
    help = "Export threads as JSON (importable with import_threads) or Markdown."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", help="thread ids (default: all, or all of --owner's)")
        parser.add_argument("--owner", help='only this owner\'s threads (an owner key, e.g. "user:3")')
        parser.add_argument("--format", choices=("json", "markdown"), default="json")
        parser.add_argument("--output", "-o", help="write to this file instead of standard output")

    def handle(self, *args, ids, owner, format, output, **options):
        threads = models.Thread.objects.all()
        if ids:
            threads = threads.filter(id__in=ids)
            missing = set(ids) - set(threads.values_list("id", flat=True))
            if missing:
                raise CommandError(f"No such thread: {', '.join(sorted(missing))}")
        if owner:
            threads = threads.owned_by(owner)
        text = (
            transfer.dumps(transfer.export_threads(threads)) if format == "json" else transfer.threads_markdown(threads)
        )
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(f"Exported {threads.count()} thread(s) to {output}.")
        else:
            self.stdout.write(text, ending="")
