"""Settings split by environment: base, local, test, production.

Pick one with DJANGO_SETTINGS_MODULE; manage.py defaults to clinic.settings.local.
"""
