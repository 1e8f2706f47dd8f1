"""``manage.py purge_attachments``: delete uploads that never joined a message."""

from django.core.management.base import BaseCommand

from chat.attachments import purge_unattached
from chat.conf import app_settings


class Command(BaseCommand):
    help = (
        "Delete attachments (rows and stored bytes) that were uploaded but never sent in a message, "
        "once older than --older-than hours (default CHATKIT_ATTACHMENT_PURGE_HOURS)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            metavar="HOURS",
            help="Age in hours (default: CHATKIT_ATTACHMENT_PURGE_HOURS).",
        )
        parser.add_argument("--dry-run", action="store_true", help="List what would be deleted; delete nothing.")

    def handle(self, *args, older_than=None, dry_run=False, **options):
        hours = app_settings.CHATKIT_ATTACHMENT_PURGE_HOURS if older_than is None else older_than
        found = purge_unattached(hours, dry_run=dry_run)
        for attachment_id, name in found:
            self.stdout.write(f"{attachment_id}  {name}")
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {len(found)} unattached upload(s) older than {hours:g} hours.")
