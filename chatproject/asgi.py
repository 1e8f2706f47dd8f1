"""ASGI entry point: ``manage.py runserver`` (daphne) and uvicorn both serve this.

Django's application sits behind :class:`chat.asgi.BodyLimitMiddleware`, which
refuses oversized or stalled bodies before Django reads them.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")

django_application = get_asgi_application()

from chat.asgi import BodyLimitMiddleware  # noqa: E402  (after Django is set up)

application = BodyLimitMiddleware(django_application)
