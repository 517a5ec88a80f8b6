"""Sending messages, each exactly once. A send task delivers a batch of ids, over one email
connection (and one SMS backend) for the whole batch, in two steps:

1. Prepare, for the whole batch in one transaction: lock the rows (SKIP LOCKED), and for each
   one still pending, due and fresh, check it still makes sense (its subject, consent, quiet
   hours) and render its text, its links written in one statement. Nothing is claimed yet.
2. Then one message after another:
   a. Claim: one conditional UPDATE makes it `sending` (attempts + 1, with its text) only if
      it is still pending and its plan unchanged since step 1. A second task for the same
      id, or a redelivered batch, finds it no longer pending and does nothing.
   b. Hand it to the channel with the message id as idempotency key.
   c. Record the outcome: `sent` with the provider's id; on an error, `pending` again after
      a backoff, or `failed` after the policy's last attempt (staff see it and can retry).
A worker killed between a and c leaves that one row `sending` (the rest of its batch is
still pending); the dispatcher recovers it (`recover_stale`), asking the channel whether the
provider already took it, and gives the rest of the batch back to be handed over again."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from .channels import (
    BaseSmsBackend,
    DeliveryError,
    EmailSession,
    MllpSession,
    email_delivered,
    sms_backend,
)
from .clock import after_quiet_hours, in_quiet_hours
from .consent import NO_CHANNEL, choose_channel
from .email_html import email_html
from .invites import Invite
from .kinds import links_written_together, load_subject, render, stale_reason
from .models import Channel, Message, MessageState, NotificationPolicy, SubjectType
from .registry import subject_kind

logger = logging.getLogger(__name__)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes, at most an hour."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


class Senders:
    """The channels of one batch: an email connection opened at the first email and kept
    for the rest, and one SMS backend. Use as a context manager: it closes the connection."""

    def __init__(self) -> None:
        self.email = EmailSession()
        self.mllp = MllpSession()
        self._sms: BaseSmsBackend | None = None

    @property
    def sms(self) -> BaseSmsBackend:
        if self._sms is None:
            self._sms = sms_backend()
        return self._sms

    def __enter__(self) -> "Senders":
        return self

    def __exit__(self, *exc_info) -> None:
        self.email.close()
        self.mllp.close()


def deliver_batch(message_ids: list[str]) -> list[str]:
    """Send each message still due to go; returns what happened to each (for logs and
    tests). An id listed twice, or a batch run twice, sends nothing twice: only a pending
    row is claimed."""
    policy = NotificationPolicy.current()
    prepared = _prepare(message_ids, policy)
    outcomes = [""] * len(message_ids)
    with Senders() as senders:
        for n in sorted(range(len(message_ids)), key=lambda n: place(prepared[message_ids[n]])):
            outcomes[n] = _send(prepared[message_ids[n]], senders, policy)
    return outcomes


def deliver(message_id: str) -> str:
    """Send one message if it is still due to go; returns what happened (for logs/tests)."""
    return deliver_batch([message_id])[0]


def dispatch_clock(message: Message) -> datetime:
    """The time the dispatcher handed the message over: its clock decides what is due (the
    tests drive it), and a hand-over too old to trust is sent back to be looked at again."""
    return message.enqueued_at or timezone.now()


class Ready:
    """A message prepared to go: rendered, not claimed. `plan` is when it was due and handed
    over as prepared; the claim goes ahead only if that is unchanged."""

    def __init__(self, message: Message) -> None:
        self.message = message
        self.plan = {"enqueued_at": message.enqueued_at, "send_after": message.send_after}
        self.invite: Invite | None = None
        self.html = ""


@transaction.atomic
def _prepare(message_ids: list[str], policy: NotificationPolicy) -> dict[str, Ready | str]:
    rows = {
        str(message.pk): message
        for message in Message.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("patient", "location")
        .filter(pk__in=set(message_ids))
    }
    with links_written_together():
        return {
            message_id: _prepare_one(rows[message_id], policy)
            if message_id in rows
            else "busy-or-missing"
            for message_id in dict.fromkeys(message_ids)
        }


def _prepare_one(message: Message, policy: NotificationPolicy) -> Ready | str:
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
    ready = Ready(message)
    if message.channel == Channel.MLLP:
        return ready  # built when planned; no consent, quiet hours or staleness apply
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
    if message.channel == Channel.EMAIL:
        with translation.override(message.patient.language):
            ready.invite = subject_kind(message.subject_type).invite(message, subject)
            ready.html = email_html(message.body, subject=message.email_subject)
    return ready


def _send(prepared: Ready | str, senders: Senders, policy: NotificationPolicy) -> str:
    if isinstance(prepared, str):
        return prepared
    if prepared.message.channel == Channel.MLLP and _earlier_unacknowledged(prepared.message):
        return _wait_for_earlier(prepared.message)
    claimed = _claim(prepared)
    if claimed != "claimed":
        return claimed
    message = prepared.message
    try:
        provider_id = _hand_over(prepared, senders)
    except DeliveryError as error:
        return _record_failure(message, error, policy)
    Message.objects.filter(pk=message.pk, state=MessageState.SENDING).update(
        state=MessageState.SENT,
        sent_at=timezone.now(),
        provider_message_id=provider_id[:120],
        last_error="",
        updated_at=timezone.now(),
    )
    logger.info("message %s sent by %s (attempt %s)", message.pk, message.channel, message.attempts)
    if message.channel == Channel.MLLP:
        _wake_next(message)
    return "sent"


def _claim(prepared: Ready) -> str:
    """pending -> sending in one statement, only if nobody claimed, cancelled or moved it
    since it was prepared; the text goes with the claim."""
    message = prepared.message
    now = timezone.now()
    claimed = Message.objects.filter(
        pk=message.pk, state=MessageState.PENDING, **prepared.plan
    ).update(
        state=MessageState.SENDING,
        claimed_at=now,
        attempts=F("attempts") + 1,
        channel=message.channel,
        email_subject=message.email_subject,
        body=message.body,
        updated_at=now,
    )
    if not claimed:  # a duplicate task got there first, or it was cancelled or moved meanwhile
        state = Message.objects.filter(pk=message.pk).values_list("state", flat=True).first()
        return "moved" if state == MessageState.PENDING else f"already-{state}"
    message.state, message.claimed_at = MessageState.SENDING, now
    message.attempts += 1
    return "claimed"


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


def _hand_over(prepared: Ready, senders: Senders) -> str:
    message = prepared.message
    key = str(message.pk)
    patient = message.patient
    if message.channel == Channel.MLLP:
        return senders.mllp.send(key=key, body=message.body)
    if message.channel == Channel.SMS:
        return senders.sms.send(key=key, to=patient.phone, body=message.body)
    return senders.email.send(
        key=key,
        to=patient.email,
        subject=message.email_subject,
        body=message.body,
        html=prepared.html,
        invite=prepared.invite,
    )


def already_delivered(message: Message) -> str | None:
    """The provider's id if it took this message before we could record it."""
    key = str(message.pk)
    if message.channel == Channel.MLLP:
        return None  # MLLP cannot be asked; the receiver drops a repeat by its MSH-10
    if message.channel == Channel.SMS:
        return sms_backend().delivered(key)
    return email_delivered(key)


def _record_failure(message: Message, error: DeliveryError, policy: NotificationPolicy) -> str:
    final = error.permanent or message.attempts >= max_attempts(message, policy)
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


def max_attempts(message: Message, policy: NotificationPolicy) -> int:
    """An interface waits out a longer outage than a patient's reminder can."""
    if message.channel == Channel.MLLP:
        return settings.HL7_MLLP_MAX_ATTEMPTS
    return policy.max_attempts


# --- One visit's HL7 messages go in order ------------------------------------------------------


def place(prepared: Ready | str) -> str:
    """Sort key within a batch: a visit's HL7 messages by their place in its sequence (the
    variant), so an earlier one acknowledged in this batch lets the next go in the same."""
    if isinstance(prepared, Ready) and prepared.message.channel == Channel.MLLP:
        return prepared.message.variant
    return ""


def _same_visit_before(message: Message):
    return Message.objects.filter(
        subject_type=SubjectType.VISIT,
        subject_id=message.subject_id,
        channel=Channel.MLLP,
        variant__lt=message.variant,
    )


def _earlier_unacknowledged(message: Message) -> bool:
    """An earlier message of the same visit is not yet acknowledged (pending, sending or
    failed): this one may not overtake it."""
    return (
        _same_visit_before(message)
        .filter(state__in=[MessageState.PENDING, MessageState.SENDING, MessageState.FAILED])
        .exists()
    )


def _wait_for_earlier(message: Message) -> str:
    """Back to the dispatcher for a later look; the earlier one's ACK wakes it sooner."""
    wait = timedelta(seconds=settings.HL7_MLLP_ORDER_WAIT_SECONDS)
    Message.objects.filter(pk=message.pk, state=MessageState.PENDING).update(
        send_after=timezone.now() + wait, enqueued_at=None, updated_at=timezone.now()
    )
    return "waits-for-earlier"


def _wake_next(message: Message) -> None:
    """The next message of the visit, if it waits for this one, is due now. One already
    handed to a task (enqueued) is left alone: that task will send it."""
    following = (
        Message.objects.filter(
            subject_type=SubjectType.VISIT,
            subject_id=message.subject_id,
            channel=Channel.MLLP,
            variant__gt=message.variant,
            state=MessageState.PENDING,
            enqueued_at__isnull=True,
        )
        .order_by("variant")
        .values_list("pk", flat=True)[:1]
    )
    Message.objects.filter(pk__in=list(following)).update(
        send_after=timezone.now(), updated_at=timezone.now()
    )
