from celery import shared_task
from django.db import InterfaceError, OperationalError

from .delivery import deliver
from .dispatcher import dispatch_due


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def send_message(message_id: str) -> str:
    """Send one outbox message by id (never its content: no PHI in task arguments).
    Safe to run twice: only a pending row is claimed. A database error retries with backoff;
    delivery errors are the outbox's own retries (attempts, backoff, then failed)."""
    return deliver(message_id)


@shared_task(ignore_result=True)
def dispatch_due_messages() -> int:
    """Beat runs this every minute (plus the on-commit fast path for messages due now)."""
    return len(dispatch_due().handed_over)
