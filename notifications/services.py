"""Writing to the outbox. Callers run these inside the transaction of the change that causes
the message, so the message exists exactly when the change does."""

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic.core.errors import Conflict
from clinic.users.actor import Actor

from .consent import NO_CHANNEL, choose_channel, earliest_send
from .dispatcher import publish
from .models import Channel, Message, MessageState, NotificationPolicy, SubjectType

logger = logging.getLogger(__name__)


def _planned_message(
    *,
    patient,
    kind: str,
    subject_type: str,
    subject_id,
    due_at: datetime,
    location,
    variant: str,
    expires_at: datetime | None,
    policy: NotificationPolicy,
    now: datetime,
) -> Message | None:
    """The row a plan makes (unsaved), or None if it would be of no use: the patient's
    channel, or cancelled for want of one; texts wait out the quiet hours."""
    if expires_at is not None and expires_at <= max(due_at, now):
        return None  # e.g. a follow-up for a procedure entered long after it happened
    channel = choose_channel(patient)
    return Message(
        subject_type=subject_type,
        subject_id=subject_id,
        kind=kind,
        variant=variant,
        patient=patient,
        location=location,
        channel=channel or Channel.EMAIL,
        due_at=due_at,
        send_after=earliest_send(
            channel=channel or Channel.EMAIL, due_at=due_at, location=location, policy=policy
        ),
        expires_at=expires_at,
        state=MessageState.PENDING if channel else MessageState.CANCELLED,
        cancel_reason="" if channel else NO_CHANNEL,
    )


PLANNED_FIELDS = (
    "patient",
    "location",
    "channel",
    "due_at",
    "send_after",
    "expires_at",
    "state",
    "cancel_reason",
)


def message_schedule(
    *,
    patient,
    kind: str,
    subject_type: str,
    subject_id,
    due_at: datetime,
    location=None,
    variant: str = "",
    expires_at: datetime | None = None,
    policy: NotificationPolicy | None = None,
) -> Message | None:
    """Plan a message. Planning the same (subject, kind, variant) again moves a pending one
    to the new time and leaves a sent one alone. Returns None if it would be of no use."""
    now = timezone.now()
    if expires_at is not None and expires_at <= max(due_at, now):
        return None  # before the policy is read: a plan of no use costs no query
    planned = _planned_message(
        patient=patient,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        due_at=due_at,
        location=location,
        variant=variant,
        expires_at=expires_at,
        policy=policy or NotificationPolicy.current(),
        now=now,
    )
    if planned is None:
        return None
    message, created = Message.objects.get_or_create(
        subject_type=subject_type,
        subject_id=subject_id,
        kind=kind,
        variant=variant,
        defaults={field: getattr(planned, field) for field in PLANNED_FIELDS},
    )
    if not created and message.state == MessageState.PENDING:
        message.due_at, message.send_after = planned.due_at, planned.send_after
        message.expires_at, message.enqueued_at = planned.expires_at, None
        message.save(update_fields=["due_at", "send_after", "expires_at", "enqueued_at"])
    if message.state == MessageState.PENDING and message.send_after <= now:
        enqueue_after_commit(message, now)
    return message


@dataclass(frozen=True)
class Plan:
    """One message of a plan: its kind, when it is due, its variant, until when it is of use."""

    kind: str
    due_at: datetime
    variant: str = ""
    expires_at: datetime | None = None


def messages_schedule_new(
    *,
    patient,
    subject_type: str,
    subject_id,
    plans: Iterable[Plan],
    location=None,
    policy: NotificationPolicy | None = None,
) -> list[Message]:
    """Plan the first messages of a subject that has none yet (a visit just booked) in one
    insert: the rows message_schedule would make one by one (a later plan of the same kind
    and variant moves a pending one), those due now handed to a worker after commit. A
    message already planned for the subject, kind and variant is left as it is (nothing is
    moved: use message_schedule to plan again); publishing its id as well is harmless, as
    a send claims only pending rows."""
    now = timezone.now()
    policy = policy or NotificationPolicy.current()
    rows: dict[tuple[str, str], Message] = {}
    for plan in plans:
        planned = _planned_message(
            patient=patient,
            kind=plan.kind,
            subject_type=subject_type,
            subject_id=subject_id,
            due_at=plan.due_at,
            location=location,
            variant=plan.variant,
            expires_at=plan.expires_at,
            policy=policy,
            now=now,
        )
        key = (plan.kind, plan.variant)
        if planned is not None and (key not in rows or rows[key].state == MessageState.PENDING):
            rows[key] = planned
    due = [m for m in rows.values() if m.state == MessageState.PENDING and m.send_after <= now]
    for message in due:
        message.enqueued_at = now
    messages = Message.objects.bulk_create(rows.values(), ignore_conflicts=True)
    if due:
        due_ids = [str(message.pk) for message in due]
        transaction.on_commit(lambda: publish(due_ids))
    return messages


def interface_enabled() -> bool:
    """An HL7 endpoint is configured (HL7_MLLP_HOST); without one nothing is planned for it."""
    return bool(settings.HL7_MLLP_HOST)


def hl7_control_id(message_id: uuid.UUID) -> str:
    """MSH-10 is at most 20 characters in HL7 v2.5.1: the first 80 bits of the row's id."""
    return message_id.hex[:20]


def interface_message_plan(
    *, patient, location, kind: str, visit_id, build: Callable[[str], str]
) -> Message | None:
    """Plan an HL7 message about a visit (`visit_id`: what stays the same through its moves)
    as the next in that visit's sequence; `build` writes its text given its MSH-10. Nothing
    is planned while no interface is configured. The caller's transaction, and the lock it
    holds on the visit, keep the sequence free of gaps and twins."""
    if not interface_enabled():
        return None
    now = timezone.now()
    sequence = Message.objects.filter(subject_type=SubjectType.VISIT, subject_id=visit_id)
    message = Message(
        id=uuid.uuid4(),
        patient=patient,
        location=location,
        channel=Channel.MLLP,
        kind=kind,
        subject_type=SubjectType.VISIT,
        subject_id=visit_id,
        variant=f"{sequence.count() + 1:06d}",
        due_at=now,
        send_after=now,
    )
    message.body = build(hl7_control_id(message.id))
    message.save(force_insert=True)
    enqueue_after_commit(message, now)
    return message


def message_reopen(*, subject_id, kind: str, variant: str = "", **plan) -> Message | None:
    """Plan a message again that was cancelled with its subject (an undone cancellation):
    the cancelled row is pending again and moves to the new time; one that was sent, or
    cancelled for want of a channel, stays as it is. Without a row, it is planned anew."""
    Message.objects.filter(
        subject_id=subject_id, kind=kind, variant=variant, state=MessageState.CANCELLED
    ).exclude(cancel_reason=NO_CHANNEL).update(
        state=MessageState.PENDING, cancel_reason="", updated_at=timezone.now()
    )
    return message_schedule(subject_id=subject_id, kind=kind, variant=variant, **plan)


def enqueue_after_commit(message: Message, now: datetime) -> None:
    """The fast path: a message due now goes to a worker as soon as its transaction commits.
    If the broker is down the row stays pending and the dispatcher sends it later."""
    Message.objects.filter(pk=message.pk).update(enqueued_at=now)
    message_id = str(message.pk)

    def publish_now() -> None:
        publish([message_id])

    transaction.on_commit(publish_now)


def messages_cancel(*, subject_id, reason: str, kinds=None) -> int:
    """Cancel what has not gone out yet about a subject (a cancelled appointment's reminders)."""
    pending = Message.objects.filter(subject_id=subject_id, state=MessageState.PENDING)
    if kinds is not None:
        pending = pending.filter(kind__in=kinds)
    return pending.update(
        state=MessageState.CANCELLED, cancel_reason=reason[:200], updated_at=timezone.now()
    )


@transaction.atomic
def message_retry(*, message: Message, by: Actor) -> Message:
    """Staff send a failed message again, now; it gets a fresh set of attempts."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    if message.state != MessageState.FAILED:
        raise Conflict(
            f"Only a failed message can be retried; this one is {message.state}.",
            code="illegal_transition",
            status=message.state,
        )
    now = timezone.now()
    message.state, message.attempts, message.send_after = MessageState.PENDING, 0, now
    who = f"staff user {by.user.pk}" if by.user else f"the {by.channel}"
    message.last_error = f"Retried by {who} after: {message.last_error}"[:300]
    message.save(update_fields=["state", "attempts", "send_after", "last_error", "updated_at"])
    logger.info("message %s retried through %s", message.pk, by.channel)
    enqueue_after_commit(message, now)
    return message
