"""The Celery app: Redis broker, JSON only, late acks, bounded tasks, beat schedule in code."""

import os

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.local")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_configure.connect
def load_django_settings_first(sender=None, **kwargs):
    """A worker or beat with a bad setting stops with one line, like manage.py does."""
    from django.conf import settings

    from clinic.startup import exit_on_configuration_error

    with exit_on_configuration_error():
        _ = settings.INSTALLED_APPS


DEFAULT_QUEUE = "default"
NOTIFICATIONS_QUEUE = "notifications"

app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    timezone="UTC",
    enable_utc=True,
    # A task is acknowledged after it ran, and a worker that dies mid-task hands it back.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=300,
    task_soft_time_limit=240,
    task_default_queue=DEFAULT_QUEUE,
    task_routes=["clinic.celery.route_task"],
    broker_connection_retry_on_startup=True,
    # Publishing while the broker is down fails fast instead of blocking a web request or
    # the dispatcher; outbox rows wait in PostgreSQL and are handed over on a later run.
    broker_connection_timeout=2,
    # visibility_timeout: longer than any task may run, so Redis does not redeliver a task
    # still running. max_retries: one reconnect attempt when publishing.
    broker_transport_options={"visibility_timeout": 3600, "max_retries": 1},
    worker_hijack_root_logger=False,
    beat_schedule={
        "beat-heartbeat": {
            "task": "clinic.core.tasks.beat_heartbeat",
            "schedule": 60.0,
        },
        "dispatch-due-messages": {
            "task": "notifications.tasks.dispatch_due_messages",
            "schedule": float(os.environ.get("NOTIFY_DISPATCH_SECONDS", "60")),
        },
        "purge-registrations": {
            "task": "portal.tasks.purge_registrations",
            "schedule": 24 * 3600.0,
        },
        "expire-waitlist-offers": {
            "task": "scheduling.tasks.expire_waitlist_offers",
            "schedule": 300.0,
        },
    },
)
app.autodiscover_tasks()


def route_task(name, args, kwargs, options, task=None, **kw):
    """Messages to patients go to their own queue (its name is a setting, so a test can give
    its worker a private one); everything else to the default queue."""
    if name.startswith("notifications.tasks."):
        from django.conf import settings

        return {"queue": getattr(settings, "NOTIFICATIONS_QUEUE", NOTIFICATIONS_QUEUE)}
    return {"queue": DEFAULT_QUEUE}


@beat_init.connect
def record_beat_start(sender=None, **kwargs):
    """Beat marks itself alive as it starts; the scheduled heartbeat keeps the mark fresh."""
    from clinic.core.tasks import beat_heartbeat

    beat_heartbeat()
