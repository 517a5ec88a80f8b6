"""The manager's background jobs, found by Celery's autodiscovery."""

from .imports import run_import

__all__ = ["run_import"]
