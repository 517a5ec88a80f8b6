"""Gunicorn settings, read from the working directory (`gunicorn clinic.wsgi`)."""

import gc
import os
import sys

# The `gunicorn` script does not put the project on the path before it reads this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gunicorn.glogging import Logger

from clinic.core.logredact import redact_atoms

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
# Chosen by measurement on a 2-core machine (bench/throughput.py, docs/operations/deploy.md).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Django is imported once in the master and the workers share its pages (copy-on-write).
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in ("1", "true", "yes")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = "-"
# %(U)s is the path without its query string: searches (?q=name) carry PHI and stay out.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


class RedactingLogger(Logger):
    """Gunicorn's logger with tokens in paths (message links, verification and reset links,
    calendar feeds) replaced by "…" in the access log (clinic/core/logredact.py)."""

    def atoms(self, resp, req, environ, request_time):
        return redact_atoms(super().atoms(resp, req, environ, request_time))


logger_class = RedactingLogger
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def pre_fork(server, worker):
    """No database connection crosses a fork, and what the master loaded is frozen out of
    the collector, so the workers' collections neither scan nor copy those pages."""
    if not server.cfg.preload_app:
        return
    from django.db import connections

    connections.close_all()
    gc.freeze()
