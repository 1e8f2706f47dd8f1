"""``manage.py purge_threads --older-than DAYS [--dry-run]``: retention.

Deletes the threads whose last activity (``updated_at``) is more than DAYS
days ago, with their items, attachments (rows and stored bytes), feedback,
server tool calls and moderation record, and clears expired sessions
(Django's ``clearsessions``). ``--dry-run`` lists what would go and deletes
nothing. Run it from cron or a systemd timer.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from chat import models


def _size(name: str) -> int:
    try:
        return default_storage.size(name)
    except (OSError, NotImplementedError):
        return 0


class Command(BaseCommand):
    help = "Delete threads with no activity for DAYS days (items, attachments, bytes), and expired sessions."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            required=True,
            metavar="DAYS",
            help="delete threads whose last activity is more than DAYS days ago",
        )
        parser.add_argument("--dry-run", action="store_true", help="list what would be deleted; delete nothing")

    def handle(self, *args, older_than, dry_run, **options):
        if older_than < 0:
            raise CommandError("--older-than must be 0 or more days")
        cutoff = timezone.now() - timedelta(days=older_than)
        threads = models.Thread.objects.filter(updated_at__lt=cutoff)
        rows = list(
            threads.annotate(n_items=Count("items", distinct=True)).values_list("id", "title", "updated_at", "n_items")
        )
        ids = [r[0] for r in rows]
        files = [f for f in models.Attachment.objects.filter(thread_id__in=ids).values_list("file", flat=True) if f]
        attachments = models.Attachment.objects.filter(thread_id__in=ids).count()
        size = sum(_size(f) for f in files)
        items = sum(r[3] for r in rows)
        verb = "Would delete" if dry_run else "Deleting"
        self.stdout.write(
            f"{verb} {len(rows)} thread(s) with no activity since {cutoff:%Y-%m-%d %H:%M} UTC: "
            f"{items} item(s), {attachments} attachment(s), {size} byte(s) of files."
        )
        for thread_id, title, updated_at, n_items in rows:
            self.stdout.write(f"  {thread_id}  {updated_at:%Y-%m-%d}  {n_items} item(s)  {title or '(untitled)'}")
        in_db = settings.SESSION_ENGINE.endswith((".db", ".cached_db"))
        expired = Session.objects.filter(expire_date__lt=timezone.now()).count() if in_db else "the"
        if dry_run:
            self.stdout.write(f"Would clear {expired} expired session(s). Dry run: nothing was deleted.")
            return
        with transaction.atomic():
            # Threads cascade to items, feedback, tool calls and the moderation record.
            models.Attachment.objects.filter(thread_id__in=ids).delete()
            models.Thread.objects.filter(id__in=ids).delete()
            transaction.on_commit(lambda: [default_storage.delete(f) for f in files])
        call_command("clearsessions")
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {len(rows)} thread(s), {items} item(s), {attachments} attachment(s) ({size} bytes); "
                f"cleared {expired} expired session(s)."
            )
        )
