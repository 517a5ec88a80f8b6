"""WSGI entry point (gunicorn clinic.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from clinic.startup import exit_on_configuration_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.production")

with exit_on_configuration_error():
    application = get_wsgi_application()
