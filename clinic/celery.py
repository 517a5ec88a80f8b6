"""The Celery app: Redis or RabbitMQ broker, JSON only, late acks, bounded tasks, beat in code."""

import functools
import os
from queue import Empty

from celery import Celery
from celery.signals import beat_init
from kombu.transport import redis as kombu_redis

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


def _survive_a_broker_lost_mid_brpop(close):
    """kombu 5.7.0's Redis channel, closed while its BRPOP is in flight and the broker gone,
    re-raises the read's ConnectionError before marking itself closed. The worker's
    reconnect (celery Consumer.on_connection_error_after_connected) first runs
    Connection.collect(), which swallows that error and drops the transport's client, then
    Connection.close(), which closes the channel again: holding an unacknowledged task
    (acks_late), the channel now restores it through a client built from the dropped
    transport, AttributeError "'NoneType' object has no attribute 'hostname'" escapes as
    "Unrecoverable error", and the worker exits instead of reconnecting. Reading the BRPOP
    reply here, ignoring a connection error as close() already ignores Empty, lets the
    first close finish; the second is then a no-op. See
    docs/decisions/0019-producer-recovery.md."""

    @functools.wraps(close)
    def close_even_if_the_brpop_read_fails(self):
        if self._in_poll:
            try:
                self._brpop_read()  # clears _in_poll whatever happens
            except (Empty, *self.connection_errors):
                pass
        return close(self)

    vars(close_even_if_the_brpop_read_fails)[_PATCHED_MARK] = True
    return close_even_if_the_brpop_read_fails


_PATCHED_MARK = "survives_lost_brpop"
if not getattr(kombu_redis.Channel.close, _PATCHED_MARK, False):
    # Patched on the class (not a subclass): the Redis transport builds its channels itself.
    kombu_redis.Channel.close = _survive_a_broker_lost_mid_brpop(  # type: ignore[method-assign]  # see the docstring above
        kombu_redis.Channel.close
    )


DEFAULT_QUEUE = "default"
NOTIFICATIONS_QUEUE = "notifications"
DISPATCH_QUEUE = "dispatch"
DISPATCH_TASK = "notifications.tasks.dispatch_due_messages"
DISPATCH_SECONDS = float(os.environ.get("NOTIFY_DISPATCH_SECONDS", "5"))
REPORT_SUMMARY_SECONDS = float(os.environ.get("REPORT_SUMMARY_SECONDS", "300"))

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
    # broker_transport_options come from the settings, made for the broker the URL names
    # (Redis or RabbitMQ): see clinic/brokers.py and docs/decisions/0019-producer-recovery.md.
    worker_hijack_root_logger=False,
    beat_schedule={
        "beat-heartbeat": {
            "task": "clinic.core.tasks.beat_heartbeat",
            "schedule": 60.0,
        },
        "dispatch-due-messages": {
            "task": DISPATCH_TASK,
            "schedule": DISPATCH_SECONDS,
            # Runs queued while no worker takes them (an outage) lapse instead of piling up;
            # long enough that a run waiting behind busy workers still goes.
            "options": {"expires": max(60.0, 2 * DISPATCH_SECONDS)},
        },
        "purge-registrations": {
            "task": "portal.tasks.purge_registrations",
            "schedule": 24 * 3600.0,
        },
        "expire-waitlist-offers": {
            "task": "scheduling.tasks.expire_waitlist_offers",
            "schedule": 300.0,
        },
        # The reports' summary tables: past days' figures lag changes by at most this.
        "refresh-report-summaries": {
            "task": "reports.tasks.refresh_report_summaries",
            "schedule": REPORT_SUMMARY_SECONDS,
            "options": {"expires": REPORT_SUMMARY_SECONDS},
        },
    },
)
app.autodiscover_tasks()


def route_task(name, args, kwargs, options, task=None, **kw):
    """The dispatcher has a queue of its own, so thousands of queued sends never delay it;
    messages to patients go to theirs; everything else to the default queue. The queue
    names are settings, so a test can give its worker private ones."""
    from django.conf import settings

    if name == DISPATCH_TASK:
        return {"queue": getattr(settings, "NOTIFY_DISPATCH_QUEUE", DISPATCH_QUEUE)}
    if name.startswith("notifications.tasks."):
        return {"queue": getattr(settings, "NOTIFICATIONS_QUEUE", NOTIFICATIONS_QUEUE)}
    return {"queue": DEFAULT_QUEUE}


@beat_init.connect
def record_beat_start(sender=None, **kwargs):
    """Beat marks itself alive as it starts; the scheduled heartbeat keeps the mark fresh."""
    from clinic.core.tasks import beat_heartbeat

    beat_heartbeat()
