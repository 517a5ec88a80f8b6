"""Sending one message, exactly once.

1. Claim: lock the row; only a pending, due, fresh row becomes `sending` (attempts + 1).
   A second task for the same id finds it locked or no longer pending and does nothing.
2. Hand it to the channel with the message id as idempotency key.
3. Record the outcome: `sent` with the provider's id; on an error, `pending` again after a
   backoff, or `failed` after the policy's last attempt (staff see it and can retry).
A worker killed between 1 and 3 leaves the row `sending`; the dispatcher recovers it
(`recover_stale`), asking the channel whether the provider already took it."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .channels import DeliveryError, email_delivered, send_email, sms_backend
from .clock import after_quiet_hours, in_quiet_hours
from .consent import NO_CHANNEL, choose_channel
from .kinds import load_subject, render, stale_reason
from .models import Channel, Message, MessageState, NotificationPolicy

logger = logging.getLogger(__name__)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes, at most an hour."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def deliver(message_id: str) -> str:
    """Send the message if it is still due to go; returns what happened (for logs/tests)."""
    claimed = _claim(message_id)
    if isinstance(claimed, str):
        return claimed
    message = claimed
    try:
        provider_id = _hand_over(message)
    except DeliveryError as error:
        return _record_failure(message, error)
    Message.objects.filter(pk=message.pk, state=MessageState.SENDING).update(
        state=MessageState.SENT,
        sent_at=timezone.now(),
        provider_message_id=provider_id[:120],
        last_error="",
        updated_at=timezone.now(),
    )
    logger.info("message %s sent by %s (attempt %s)", message.pk, message.channel, message.attempts)
    return "sent"


def dispatch_clock(message: Message) -> datetime:
    """The time the dispatcher handed the message over: its clock decides what is due (the
    tests drive it), and a hand-over too old to trust is sent back to be looked at again."""
    return message.enqueued_at or timezone.now()


@transaction.atomic
def _claim(message_id: str) -> Message | str:
    message = (
        Message.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("patient", "location")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return "busy-or-missing"
    if message.state != MessageState.PENDING:
        return f"already-{message.state}"
    now = timezone.now()
    at = dispatch_clock(message)
    if now - at > timedelta(seconds=settings.NOTIFY_DISPATCH_MAX_LAG_SECONDS):
        message.enqueued_at = None  # waited too long in the queue: the dispatcher decides again
        message.save(update_fields=["enqueued_at", "updated_at"])
        return "requeued-stale"
    if message.send_after > at:
        return "not-due"
    policy = NotificationPolicy.current()
    subject = load_subject(message)
    reason = _why_not(message, subject, at)
    if reason:
        message.state, message.cancel_reason = MessageState.CANCELLED, reason[:200]
        message.save(update_fields=["state", "cancel_reason", "updated_at"])
        return "cancelled"
    if _must_wait_for_morning(message, at, policy):
        return "quiet-hours"
    if not message.body:
        message.email_subject, message.body = render(message, subject, policy)
    message.state, message.claimed_at = MessageState.SENDING, now
    message.attempts += 1
    message.save()
    return message


def _why_not(message: Message, subject, at: datetime) -> str | None:
    reason = stale_reason(message, subject, at)
    if reason:
        return reason
    channel = choose_channel(message.patient)
    if channel is None:
        return NO_CHANNEL
    if channel != message.channel and not message.body:
        message.channel = channel  # consent changed since it was planned
    elif channel != message.channel:
        return "The patient withdrew consent for this channel."
    return None


def _must_wait_for_morning(message: Message, at: datetime, policy) -> bool:
    if message.channel != Channel.SMS or message.location is None:
        return False
    zone = message.location.zone
    if not in_quiet_hours(at, zone, policy.quiet_hours_start, policy.quiet_hours_end):
        return False
    message.send_after = after_quiet_hours(
        at, zone, policy.quiet_hours_start, policy.quiet_hours_end
    )
    message.enqueued_at = None
    message.save(update_fields=["send_after", "enqueued_at", "channel", "updated_at"])
    return True


def _hand_over(message: Message) -> str:
    key = str(message.pk)
    patient = message.patient
    if message.channel == Channel.SMS:
        return sms_backend().send(key=key, to=patient.phone, body=message.body)
    return send_email(key=key, to=patient.email, subject=message.email_subject, body=message.body)


def already_delivered(message: Message) -> str | None:
    """The provider's id if it took this message before we could record it."""
    key = str(message.pk)
    if message.channel == Channel.SMS:
        return sms_backend().delivered(key)
    return email_delivered(key)


def _record_failure(message: Message, error: DeliveryError) -> str:
    policy = NotificationPolicy.current()
    final = error.permanent or message.attempts >= policy.max_attempts
    now = timezone.now()
    Message.objects.filter(pk=message.pk, state=MessageState.SENDING).update(
        state=MessageState.FAILED if final else MessageState.PENDING,
        send_after=now + backoff(message.attempts),
        enqueued_at=None,
        last_error=str(error)[:300],
        updated_at=now,
    )
    logger.warning(
        "message %s attempt %s failed (%s)%s",
        message.pk,
        message.attempts,
        error,
        ": giving up" if final else "",
    )
    return "failed" if final else "retry-later"
