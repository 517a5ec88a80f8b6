"""Start-up guards: a misconfigured clinic stops with one clear line, not a traceback wall."""

import sys
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured
from django.db.utils import OperationalError


def describe_database_error(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = lines[0] if lines else exc.__class__.__name__
    return f"clinic: cannot reach the database ({reason}); check DATABASE_URL"


@contextmanager
def exit_on_configuration_error():
    try:
        yield
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"clinic: configuration error: {exc}\n")
        raise SystemExit(2) from None
    except OperationalError as exc:
        sys.stderr.write(describe_database_error(exc) + "\n")
        raise SystemExit(2) from None
