"""WSGI entry point (gunicorn clinic.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

# Before anything imports the clinic package, whose Celery app would default to local.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.production")

from clinic.startup import exit_on_configuration_error

with exit_on_configuration_error():
    application = get_wsgi_application()
