"""ASGI entry point: ``manage.py runserver`` (daphne) and uvicorn both serve this."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")

application = get_asgi_application()
