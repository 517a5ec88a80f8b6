#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.local")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    from clinic.startup import exit_on_configuration_error

    with exit_on_configuration_error():
        _ = settings.INSTALLED_APPS  # load settings now so a bad one fails here, in one line
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
