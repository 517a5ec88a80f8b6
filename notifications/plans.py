"""What is sent when: the hooks the scheduling and procedures services call inside their
own transactions. Each one writes outbox rows; nothing here sends anything."""

from datetime import date, time, timedelta

from django.utils import timezone

from .clock import at_local, local_day, wall_clock_before
from .models import MessageKind, NotificationPolicy, SubjectType
from .services import message_schedule, messages_cancel

# --- Appointments ---------------------------------------------------------------------------


def _for_appointment(appointment, kind, due_at, *, variant="", expires_at=None, policy=None):
    return message_schedule(
        patient=appointment.patient,
        kind=kind,
        subject_type=SubjectType.APPOINTMENT,
        subject_id=appointment.pk,
        due_at=due_at,
        location=appointment.location,
        variant=variant,
        expires_at=expires_at,
        policy=policy,
    )


def appointment_booked(appointment, *, rescheduled: bool = False) -> None:
    """A confirmation now; reminders at the type's hours before (on the local wall clock);
    for a procedure, its preparation and the day each medication hold starts."""
    policy = NotificationPolicy.current()
    now = timezone.now()
    zone = appointment.location.zone
    _for_appointment(
        appointment,
        MessageKind.APPOINTMENT_CONFIRMATION,
        now,
        variant="moved" if rescheduled else "",
        expires_at=appointment.start,
        policy=policy,
    )
    for hours in sorted(set(appointment.appointment_type.reminder_hours), reverse=True):
        due = wall_clock_before(appointment.start, hours, zone)
        if due > now:  # booked closer than that: the confirmation is the reminder
            _for_appointment(
                appointment,
                MessageKind.APPOINTMENT_REMINDER,
                due,
                variant=f"{hours}h",
                expires_at=appointment.start,
                policy=policy,
            )
    if appointment.procedure_order_id:
        _procedure_preparation(appointment, policy, now)


def _procedure_preparation(appointment, policy, now) -> None:
    zone = appointment.location.zone
    visit_day = local_day(appointment.start, zone)
    prepare_on = visit_day - timedelta(days=policy.preparation_days_before)
    _for_appointment(
        appointment,
        MessageKind.PREPARATION,
        max(at_local(prepare_on, policy.day_message_time, zone), now),
        expires_at=appointment.start,
        policy=policy,
    )
    today = local_day(now, zone)
    for finding in appointment.findings:  # the safety check the booking just ran
        hold_start = (finding.get("details") or {}).get("hold_start")
        if not hold_start or finding.get("severity") == "info":
            continue  # no hold, or the medication is already stopped in time
        day = date.fromisoformat(hold_start)
        if day < today:
            continue  # too late to start it: the safety check blocks the booking instead
        _for_appointment(
            appointment,
            MessageKind.MEDICATION_HOLD,
            max(at_local(day, policy.day_message_time, zone), now),
            variant=finding["code"][:60],
            expires_at=at_local(day + timedelta(days=1), time(0, 0), zone),
            policy=policy,
        )


def appointment_cancelled(appointment, *, notify: bool) -> None:
    """Nothing more is sent about it; the patient is told unless it was a reschedule."""
    messages_cancel(subject_id=appointment.pk, reason="The appointment was cancelled.")
    if notify and appointment.start > timezone.now():
        _for_appointment(
            appointment, MessageKind.APPOINTMENT_CANCELLED, timezone.now(), expires_at=None
        )


def appointment_closed(appointment) -> None:
    """A no-show or a visit that happened: its pending reminders are pointless."""
    messages_cancel(subject_id=appointment.pk, reason=f"The appointment is {appointment.status}.")


# --- After a procedure -------------------------------------------------------------------------


def procedure_recorded(record) -> None:
    """The follow-up plan of the procedure type, from the catalog, timed from the procedure
    in its location's zone. Messages already too late (a record entered long after) are not
    planned at all."""
    policy = NotificationPolicy.current()
    plan = record.procedure_type.follow_up_plan or {}
    zone = record.location.zone
    day = local_day(record.performed_at, zone)
    at_time = policy.day_message_time

    def plan_message(kind, due, *, variant="", expires):
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
    if record.next_refill_due:
        refill = record.next_refill_due
        due = at_local(refill - timedelta(days=policy.refill_reminder_days), at_time, zone)
        expires = at_local(refill + timedelta(days=1), at_time, zone)
        plan_message(
            MessageKind.PUMP_REFILL,
            max(due, timezone.now()),
            variant=refill.isoformat(),
            expires=expires,
        )


# --- Waitlist -----------------------------------------------------------------------------------


def waitlist_offered(offer) -> None:
    message_schedule(
        patient=offer.entry.patient,
        kind=MessageKind.WAITLIST_OFFER,
        subject_type=SubjectType.WAITLIST_OFFER,
        subject_id=offer.pk,
        due_at=timezone.now(),
        location=offer.location,
        expires_at=offer.expires_at,
    )


def waitlist_offer_closed(offer) -> None:
    messages_cancel(subject_id=offer.pk, reason=f"The offer is {offer.status}.")
