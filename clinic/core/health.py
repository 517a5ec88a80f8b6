"""Checks behind GET /healthz: can this process reach the database and the broker?"""

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from kombu import Connection

BEAT_HEARTBEAT_KEY = "celery-beat-heartbeat"
BEAT_STALE_AFTER = timedelta(minutes=3)


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        check()
    except Exception as exc:  # a health check reports every failure; it never raises
        return {"status": "error", "error": exc.__class__.__name__}
    return {"status": "ok", "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def _query_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _reach_broker() -> None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
        broker.ensure_connection(max_retries=1, timeout=3)
        # Redis connects lazily: a round trip on a channel proves it answers.
        client = getattr(broker.default_channel, "client", None)
        if client is not None:
            client.ping()


def scheduler_state() -> dict:
    """When beat last ran its heartbeat task. Informational: it never fails the check."""
    try:
        last = cache.get(BEAT_HEARTBEAT_KEY)
    except Exception as exc:
        return {"status": "unknown", "error": exc.__class__.__name__}
    if last is None:
        return {"status": "unknown", "last_heartbeat": None}
    seen = datetime.fromisoformat(last)
    fresh = timezone.now() - seen < BEAT_STALE_AFTER
    return {"status": "ok" if fresh else "stale", "last_heartbeat": last}


def health_report() -> tuple[bool, dict]:
    components = {"database": _timed(_query_database), "broker": _timed(_reach_broker)}
    healthy = all(part["status"] == "ok" for part in components.values())
    components["scheduler"] = scheduler_state()
    return healthy, {"status": "ok" if healthy else "error", "components": components}
