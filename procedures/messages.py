"""The follow-ups after a procedure: what is planned when (outbox rows written in the
recording transaction), and what the outbox needs to know of a performed procedure,
registered in ProceduresConfig.ready(). Whether a booked visit makes a follow-up pointless
is the scheduling app's to say (scheduling/messages.py)."""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.utils import timezone

from notifications.clock import at_local, local_day
from notifications.kinds import new_link, portal_link
from notifications.models import LinkPurpose, Message, MessageKind, NotificationPolicy, SubjectType
from notifications.registry import SubjectKind, register_subject
from notifications.services import message_reopen, message_schedule

from .models import ProcedureRecord


def procedure_recorded(record: ProcedureRecord) -> None:
    """The follow-up plan of the procedure type, from the catalog, timed from the procedure
    in its location's zone. Messages already too late (a record entered long after) are not
    planned at all."""
    policy = NotificationPolicy.current()
    plan = record.procedure_type.follow_up_plan or {}
    zone = record.location.zone
    day = local_day(record.performed_at, zone)
    at_time = policy.day_message_time

    def plan_message(kind: str, due: datetime, *, variant: str = "", expires: datetime) -> None:
        message_schedule(
            patient=record.patient,
            kind=kind,
            subject_type=SubjectType.PROCEDURE_RECORD,
            subject_id=record.pk,
            due_at=due,
            location=record.location,
            variant=variant,
            expires_at=expires,
            policy=policy,
        )

    if plan.get("next_day_check"):
        due = at_local(day + timedelta(days=1), at_time, zone)
        plan_message(MessageKind.NEXT_DAY_CHECK, due, expires=due + timedelta(hours=12))
    for hours in plan.get("pain_diary_hours") or []:
        due = record.performed_at + timedelta(hours=hours)
        window = timedelta(minutes=policy.diary_send_window_minutes)
        plan_message(MessageKind.PAIN_DIARY, due, variant=f"{hours}h", expires=due + window)
    for days in plan.get("outcome_survey_days") or []:
        due = at_local(day + timedelta(days=days), at_time, zone)
        expires = due + timedelta(days=policy.survey_link_days)
        plan_message(MessageKind.OUTCOME_SURVEY, due, variant=f"{days}d", expires=expires)
    for days in plan.get("wound_check_days") or []:
        due = at_local(day + timedelta(days=days), at_time, zone)
        plan_message(
            MessageKind.WOUND_CHECK, due, variant=f"{days}d", expires=due + timedelta(days=2)
        )
    if plan.get("follow_up_visit", True):
        due = at_local(day + timedelta(days=policy.follow_up_visit_days), at_time, zone)
        plan_message(MessageKind.FOLLOW_UP_VISIT, due, expires=due + timedelta(days=14))
    refill = refill_reminder_plan(record, policy)
    if refill is not None:
        due, variant, expires = refill
        plan_message(
            MessageKind.PUMP_REFILL, max(due, timezone.now()), variant=variant, expires=expires
        )


def refill_reminder_plan(
    record: ProcedureRecord, policy: NotificationPolicy
) -> tuple[datetime, str, datetime] | None:
    """When the pump refill reminder is due (the policy's days before the refill date the
    record calculated), its variant and until when it is of use; None without a date."""
    if not record.next_refill_due:
        return None
    refill, zone, at_time = record.next_refill_due, record.location.zone, policy.day_message_time
    due = at_local(refill - timedelta(days=policy.refill_reminder_days), at_time, zone)
    return due, refill.isoformat(), at_local(refill + timedelta(days=1), at_time, zone)


def refill_reminder_replan(record: ProcedureRecord) -> Message | None:
    """The refill reminder again, after the refill visit that cancelled it was itself
    cancelled (scheduling/refill_messages.py): pending once more, at its time (now if that
    has passed), unless the refill date is already behind."""
    policy = NotificationPolicy.current()
    planned = refill_reminder_plan(record, policy)
    if planned is None or planned[2] <= timezone.now():
        return None
    due, variant, expires = planned
    return message_reopen(
        patient=record.patient,
        kind=MessageKind.PUMP_REFILL,
        subject_type=SubjectType.PROCEDURE_RECORD,
        subject_id=record.pk,
        due_at=max(due, timezone.now()),
        location=record.location,
        variant=variant,
        expires_at=expires,
        policy=policy,
    )


def _load_record(subject_id: UUID) -> ProcedureRecord | None:
    return (
        ProcedureRecord.objects.select_related("location", "procedure_type")
        .filter(pk=subject_id)
        .first()
    )


def _record_context(
    message: Message, record: ProcedureRecord, policy: NotificationPolicy
) -> dict[str, Any]:
    if message.kind == MessageKind.OUTCOME_SURVEY:
        expires = message.due_at + timedelta(days=policy.survey_link_days)
        purpose = LinkPurpose.SURVEY
    elif message.kind == MessageKind.PAIN_DIARY:
        expires = message.due_at + timedelta(hours=policy.diary_link_hours)
        purpose = LinkPurpose.DIARY
    else:
        return portal_link()
    link = new_link(purpose=purpose, message=message, subject_id=record.pk, expires_at=expires)
    return {"link": link}


def register() -> None:
    register_subject(
        SubjectType.PROCEDURE_RECORD,
        SubjectKind(
            load=_load_record, moment=lambda record: record.performed_at, context=_record_context
        ),
    )
