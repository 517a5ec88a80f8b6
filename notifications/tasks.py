import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .delivery import deliver_batch
from .dispatcher import dispatch_due

logger = logging.getLogger(__name__)


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def send_messages(message_ids: list[str]) -> list[str]:
    """Send a batch of outbox messages by id (never their content: no PHI in task
    arguments), email over one connection. Safe to run twice, whole or in part: only a
    pending row is claimed. A database error retries the batch with backoff (what was sent
    is skipped); delivery errors are the outbox's own retries (attempts, backoff, failed)."""
    return deliver_batch(message_ids)


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def send_message(message_id: str) -> list[str]:
    """One message: tasks queued before batches existed still run after an upgrade."""
    return deliver_batch([message_id])


@shared_task(ignore_result=True)
def dispatch_due_messages() -> int:
    """Beat runs this every few seconds on the dispatch queue (plus the on-commit fast path
    for messages due now). A run that stops at its time budget queues the next one at once."""
    report = dispatch_due()
    if report.more:
        try:
            dispatch_due_messages.apply_async(retry=False)
        except Exception as error:  # the broker is down: beat's next run carries on
            logger.warning("could not queue the next dispatch (%s)", type(error).__name__)
    return len(report.handed_over)
