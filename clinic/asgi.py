"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

# Before anything imports the clinic package, whose Celery app would default to local.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.production")

from clinic.startup import exit_on_configuration_error

with exit_on_configuration_error():
    application = get_asgi_application()
