from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from .health import BEAT_HEARTBEAT_KEY


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Scheduled by beat every minute; /healthz shows when it last ran."""
    cache.set(BEAT_HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)


@shared_task(bind=True)
def ping(self, token: str) -> dict:
    """Round trip through the broker to a worker and back (used by tests and operators)."""
    return {"pong": token, "worker": self.request.hostname}
