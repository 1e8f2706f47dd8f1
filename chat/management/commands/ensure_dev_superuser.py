"""``manage.py ensure_dev_superuser``: make the admin reachable after ``make run`` alone.

While ``DEBUG`` is on and no superuser exists, create ``admin`` with a random
password, save the password to the git-ignored file ``.admin-password`` beside
``manage.py`` and print where it is. Does nothing in production (``DEBUG``
off) or once any superuser exists.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "In development, create an 'admin' superuser with a random password (once)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: no development superuser is created.")
            return
        User = get_user_model()
        password_file = settings.BASE_DIR / ".admin-password"
        if User.objects.filter(is_superuser=True).exists():
            where = f" (password in {password_file})" if password_file.exists() else ""
            self.stdout.write(f"Admin: http://127.0.0.1:8000/admin/ as an existing superuser{where}.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "admin@localhost", password)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                "Created the development superuser 'admin'. Its password is in "
                f"{password_file}.\nAdmin: http://127.0.0.1:8000/admin/"
            )
        )
