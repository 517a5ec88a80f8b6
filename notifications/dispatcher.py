"""The dispatcher, run by beat every minute: claim due messages in small batches with
SELECT ... FOR UPDATE SKIP LOCKED, hand their ids to send tasks after commit, and recover
messages whose worker died while sending. Two dispatchers at once claim disjoint rows."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .delivery import already_delivered
from .models import Message, MessageState, NotificationPolicy

SEND_MESSAGE_TASK = "notifications.tasks.send_message"

logger = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    handed_over: list[str] = field(default_factory=list)
    recovered_sent: int = 0
    recovered_pending: int = 0
    recovered_failed: int = 0


def publish(message_ids: list[str]) -> int:
    """Queue a send task per id; returns how many reached the broker. At the first broker
    error the rest are not tried (each try can block for seconds) and every unpublished row
    is released for the next dispatcher run, so a broker outage delays but loses nothing."""
    for index, message_id in enumerate(message_ids):
        try:
            # By name: the task module imports this one, and a producer needs no task code.
            # ignore_result: nothing reads a send's result (the row is the record), and
            # without it send_task first subscribes to the task's result in the result
            # backend, which, being the same Redis in production, retries for ~20 s there
            # when Redis is down instead of failing the publish at once.
            current_app.send_task(
                SEND_MESSAGE_TASK,
                args=[message_id],
                queue=settings.NOTIFICATIONS_QUEUE,
                retry=False,
                ignore_result=True,
            )
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:  # the broker is down: these rows are still pending
            unsent = message_ids[index:]
            logger.warning(
                "could not queue %s message(s) (%s); the next dispatch retries them",
                len(unsent),
                type(error).__name__,
            )
            Message.objects.filter(pk__in=unsent, state=MessageState.PENDING).update(
                enqueued_at=None
            )
            return index
    return len(message_ids)


def _claim_batch(now: datetime, size: int) -> list[str]:
    requeue_before = now - timedelta(seconds=settings.NOTIFY_REQUEUE_SECONDS)
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(state=MessageState.PENDING, send_after__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before))
            .order_by("send_after")
            .values_list("id", flat=True)[:size]
        )
        Message.objects.filter(id__in=ids).update(enqueued_at=now)
    return [str(i) for i in ids]


def dispatch_due(*, now: datetime | None = None, batch_size: int | None = None) -> DispatchReport:
    """Hand every due message to a worker. `now` is the dispatcher's clock (tests move it)."""
    now = now or timezone.now()
    size = batch_size or settings.NOTIFY_BATCH_SIZE
    report = DispatchReport()
    recover_stale(report=report)
    for _ in range(settings.NOTIFY_MAX_BATCHES):
        ids = _claim_batch(now, size)
        if not ids:
            break
        publish(ids)
        report.handed_over.extend(ids)
        if len(ids) < size:
            break
    return report


def recover_stale(*, report: DispatchReport | None = None) -> DispatchReport:
    """A message `sending` for longer than any send can take lost its worker. If the
    provider has it, it was sent; otherwise it goes back to pending (or fails for good).
    The lease is real elapsed time, whatever clock the dispatcher is driven on."""
    now = timezone.now()
    report = report or DispatchReport()
    lease = timedelta(seconds=settings.NOTIFY_SENDING_LEASE_SECONDS)
    policy = NotificationPolicy.current()
    while True:
        with transaction.atomic():
            stale = list(
                Message.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("patient")
                .filter(state=MessageState.SENDING, claimed_at__lt=now - lease)[:50]
            )
            for message in stale:
                _recover_one(message, now, policy, report, already_delivered)
        if len(stale) < 50:
            return report


def _recover_one(message, now, policy, report, already_delivered) -> None:
    provider_id = already_delivered(message)
    if provider_id:
        message.state, message.sent_at = MessageState.SENT, now
        message.provider_message_id = provider_id[:120]
        report.recovered_sent += 1
    elif message.attempts >= policy.max_attempts:
        message.state = MessageState.FAILED
        message.last_error = "The worker stopped while sending, on the last attempt."
        report.recovered_failed += 1
    else:
        message.state, message.enqueued_at = MessageState.PENDING, None  # due as before
        message.last_error = "The worker stopped while sending; sent again."
        report.recovered_pending += 1
    message.save()
    logger.warning("message %s recovered from a stopped worker: %s", message.pk, message.state)
