"""The dispatcher, run by beat every few seconds on a queue of its own: claim due messages
with SELECT ... FOR UPDATE SKIP LOCKED, hand their ids to send tasks in batches after commit,
and recover messages whose worker died while sending. It claims until nothing is due (a run
that uses up its time budget queues the next one at once), so due rows never wait for the
next beat. Two dispatchers at once claim disjoint rows."""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .delivery import already_delivered, max_attempts
from .models import Message, MessageState, NotificationPolicy

SEND_MESSAGES_TASK = "notifications.tasks.send_messages"

logger = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    handed_over: list[str] = field(default_factory=list)
    recovered_sent: int = 0
    recovered_pending: int = 0
    recovered_failed: int = 0
    # The run stopped at its time budget with rows possibly still due: run again at once.
    more: bool = False
    # The run stopped because enough send tasks wait already: beat's next run goes on.
    queue_full: bool = False


def chunks(ids: list[str], size: int) -> list[list[str]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def publish(message_ids: list[str]) -> int:
    """Queue send tasks of up to NOTIFY_SEND_BATCH_SIZE ids each; returns how many ids reached
    the broker. At the first broker error the rest are not tried (each try can block for
    seconds) and every unpublished row is released for the next dispatcher run, so a broker
    outage delays but loses nothing."""
    published = 0
    for batch in chunks(message_ids, settings.NOTIFY_SEND_BATCH_SIZE):
        try:
            # By name: the task module imports this one, and a producer needs no task code.
            # ignore_result: nothing reads a send's result (the row is the record), and
            # without it send_task first subscribes to the task's result in the result
            # backend, which, being the same Redis in production, retries for ~20 s there
            # when Redis is down instead of failing the publish at once.
            current_app.send_task(
                SEND_MESSAGES_TASK,
                args=[batch],
                queue=settings.NOTIFICATIONS_QUEUE,
                retry=False,
                ignore_result=True,
            )
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:  # the broker is down: these rows are still pending
            unsent = message_ids[published:]
            logger.warning(
                "could not queue %s message(s) (%s); the next dispatch retries them",
                len(unsent),
                type(error).__name__,
            )
            Message.objects.filter(pk__in=unsent, state=MessageState.PENDING).update(
                enqueued_at=None
            )
            return published
        published += len(batch)
    return published


def send_queue_is_full() -> bool:
    """NOTIFY_QUEUE_HIGH_WATER send tasks wait already. The rest stay due in PostgreSQL, where
    a cancellation still reaches them, until the workers catch up; in the broker they would
    wait long enough to be handed over again (NOTIFY_REQUEUE_SECONDS)."""
    try:
        # A connection of its own: a broker may close the channel of a failed passive
        # declare (RabbitMQ does, for a queue that does not exist), never a publisher's.
        with current_app.connection_for_write() as connection:
            channel: Any = connection.default_channel  # the stubs' StdChannel lacks it
            waiting = channel.queue_declare(
                queue=settings.NOTIFICATIONS_QUEUE, passive=True
            ).message_count
    except SoftTimeLimitExceeded:
        raise
    except Exception:  # no such queue yet (nothing waits), or the broker is down
        return False  # publish finds out and releases what it claimed
    return waiting >= settings.NOTIFY_QUEUE_HIGH_WATER


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


def dispatch_due(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    budget_seconds: float | None = None,
) -> DispatchReport:
    """Hand every due message to a worker. `now` is the dispatcher's clock (tests move it).
    Claims `batch_size` rows per transaction until none is left, the broker refuses them
    (they wait for the next run) or the time budget is spent (`report.more`)."""
    now = now or timezone.now()
    size = batch_size or settings.NOTIFY_BATCH_SIZE
    budget = settings.NOTIFY_DISPATCH_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    report = DispatchReport()
    recover_stale(report=report)
    while True:
        if send_queue_is_full():
            report.queue_full = True
            break
        ids = _claim_batch(now, size)
        if not ids:
            break
        published = publish(ids)
        report.handed_over.extend(ids)
        if published < len(ids) or len(ids) < size:
            break
        if time.monotonic() >= deadline:
            report.more = True
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
            handed_at = {message.enqueued_at for message in stale if message.enqueued_at}
            for message in stale:
                _recover_one(message, now, policy, report, already_delivered)
            _release_batch_mates(handed_at)
        if len(stale) < 50:
            return report


def _release_batch_mates(handed_at: set[datetime]) -> None:
    """A worker that died mid-batch also held the rest of its batch: Redis gives that task
    back only after its visibility timeout (an hour). The rows handed over in the same run
    that nobody claimed yet go back to the dispatcher now. Some of them may still wait in
    another task; whichever task comes first sends them, the other finds them sent."""
    if handed_at:
        Message.objects.filter(state=MessageState.PENDING, enqueued_at__in=handed_at).update(
            enqueued_at=None
        )


def _recover_one(message, now, policy, report, already_delivered) -> None:
    provider_id = already_delivered(message)
    if provider_id:
        message.state, message.sent_at = MessageState.SENT, now
        message.provider_message_id = provider_id[:120]
        report.recovered_sent += 1
    elif message.attempts >= max_attempts(message, policy):
        message.state = MessageState.FAILED
        message.last_error = "The worker stopped while sending, on the last attempt."
        report.recovered_failed += 1
    else:
        message.state, message.enqueued_at = MessageState.PENDING, None  # due as before
        message.last_error = "The worker stopped while sending; sent again."
        report.recovered_pending += 1
    message.save()
    logger.warning("message %s recovered from a stopped worker: %s", message.pk, message.state)
