"""What each kind of message is about, when it has become pointless, and what it says.
The send task asks `stale_reason` at the moment of sending, so a message about a cancelled
appointment or a taken offer is never sent, whatever happened to its cancellation."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from procedures.models import ProcedureRecord
from scheduling.models import Appointment, AppointmentKind, AppointmentStatus, WaitlistOffer

from .models import LinkPurpose, LinkToken, Message, MessageKind, NotificationPolicy, SubjectType

HOLDS_TIME = [
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_ROOM,
    AppointmentStatus.COMPLETED,
]


def load_subject(message: Message):
    if message.subject_type == SubjectType.APPOINTMENT:
        return (
            Appointment.objects.select_related("location", "provider", "procedure_order")
            .filter(pk=message.subject_id)
            .first()
        )
    if message.subject_type == SubjectType.PROCEDURE_RECORD:
        return (
            ProcedureRecord.objects.select_related("location", "procedure_type")
            .filter(pk=message.subject_id)
            .first()
        )
    return (
        WaitlistOffer.objects.select_related("location", "provider")
        .filter(pk=message.subject_id)
        .first()
    )


# --- When a message has become pointless ----------------------------------------------------


def _appointment_gone(appointment, at: datetime) -> str | None:
    if appointment.status != AppointmentStatus.BOOKED:
        return f"The appointment is {appointment.get_status_display().lower()}."
    if appointment.start <= at:
        return "The appointment has started."
    return None


def _hold_gone(appointment, message: Message, at: datetime) -> str | None:
    gone = _appointment_gone(appointment, at)
    if gone:
        return gone
    order = appointment.procedure_order
    findings = order.findings if order is not None else appointment.findings
    if not any(f.get("code", "")[:60] == message.variant for f in findings):
        return "The safety check no longer asks for this hold."
    return None


def _visit_booked(record, at: datetime) -> str | None:
    booked = Appointment.objects.filter(
        patient_id=record.patient_id, status__in=HOLDS_TIME, start__gt=record.performed_at
    ).exclude(appointment_type__kind=AppointmentKind.PROCEDURE)
    return "A follow-up visit is booked." if booked.exists() else None


def _refill_arranged(record, at: datetime) -> str | None:
    later = ProcedureRecord.objects.filter(
        patient_id=record.patient_id,
        procedure_type__code="itp_refill",
        performed_at__gt=record.performed_at,
    )
    if later.exists():
        return "The pump has been refilled since."
    booked = Appointment.objects.filter(
        patient_id=record.patient_id,
        status=AppointmentStatus.BOOKED,
        appointment_type__kind=AppointmentKind.PUMP_REFILL,
        start__gt=at,
    )
    return "A refill visit is booked." if booked.exists() else None


def _offer_closed(offer, at: datetime) -> str | None:
    if offer.status != "open" or offer.expires_at <= at:
        return "The offer is no longer open."
    return None


def _never(subject, at: datetime) -> str | None:
    return None


STALE = {
    MessageKind.APPOINTMENT_CONFIRMATION: _appointment_gone,
    MessageKind.APPOINTMENT_REMINDER: _appointment_gone,
    MessageKind.PREPARATION: _appointment_gone,
    MessageKind.APPOINTMENT_CANCELLED: lambda a, at: (
        None if a.status == AppointmentStatus.CANCELLED else "The appointment is not cancelled."
    ),
    MessageKind.NEXT_DAY_CHECK: _never,
    MessageKind.PAIN_DIARY: _never,
    MessageKind.OUTCOME_SURVEY: _never,
    MessageKind.WOUND_CHECK: _never,
    MessageKind.FOLLOW_UP_VISIT: _visit_booked,
    MessageKind.WAITLIST_OFFER: _offer_closed,
    MessageKind.PUMP_REFILL: _refill_arranged,
}


def stale_reason(message: Message, subject, at: datetime) -> str | None:
    """Why the message should not go out any more, or None if it still should."""
    if subject is None:
        return "What it was about no longer exists."
    if message.expires_at is not None and message.expires_at <= at:
        return "It is too late for this message."
    if message.kind == MessageKind.MEDICATION_HOLD:
        return _hold_gone(subject, message, at)
    return STALE[message.kind](subject, at)


# --- Links that need no login ------------------------------------------------------------------


def absolute(path: str) -> str:
    return settings.CLINIC_BASE_URL.rstrip("/") + path


def new_link(*, purpose: str, message: Message, subject_id, expires_at: datetime) -> str:
    """A single-use link; the database keeps only its hash."""
    token = secrets.token_urlsafe(32)
    LinkToken.objects.create(
        digest=token_digest(token),
        purpose=purpose,
        message=message,
        patient_id=message.patient_id,
        subject_id=subject_id,
        expires_at=expires_at,
    )
    return absolute(reverse("notifications:link", args=[token]))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _links(message: Message, subject, policy: NotificationPolicy) -> dict:
    kind = message.kind
    if kind == MessageKind.APPOINTMENT_REMINDER:
        return {
            "confirm_link": new_link(
                purpose=LinkPurpose.CONFIRM,
                message=message,
                subject_id=subject.pk,
                expires_at=subject.start,
            ),
            "cancel_link": new_link(
                purpose=LinkPurpose.CANCEL,
                message=message,
                subject_id=subject.pk,
                expires_at=subject.start,
            ),
        }
    if kind == MessageKind.OUTCOME_SURVEY:
        expires = message.due_at + timedelta(days=policy.survey_link_days)
        purpose = LinkPurpose.SURVEY
    elif kind == MessageKind.PAIN_DIARY:
        expires = message.due_at + timedelta(hours=policy.diary_link_hours)
        purpose = LinkPurpose.DIARY
    elif kind == MessageKind.WAITLIST_OFFER:
        expires, purpose = subject.expires_at, LinkPurpose.WAITLIST_OFFER
    else:
        return {"link": absolute(reverse("portal:home"))}
    link = new_link(purpose=purpose, message=message, subject_id=subject.pk, expires_at=expires)
    return {"link": link}


# --- What it says ------------------------------------------------------------------------------


def when_text(moment: datetime, zone) -> str:
    local = moment.astimezone(zone)
    return f"{local:%A %-d %B} at {local:%-I:%M %p}".replace("AM", "a.m.").replace("PM", "p.m.")


def _subject_time(message: Message, subject) -> datetime | None:
    if isinstance(subject, ProcedureRecord):
        return subject.performed_at
    return subject.start


def _holds(message: Message, subject) -> list[str]:
    if message.kind not in (MessageKind.PREPARATION, MessageKind.MEDICATION_HOLD):
        return []
    order = subject.procedure_order
    findings = order.findings if order is not None else subject.findings
    return [
        f["reason"]
        for f in findings
        if f.get("details", {}).get("hold_start")
        and (message.kind == MessageKind.PREPARATION or f["code"][:60] == message.variant)
    ]


def _preparation(message: Message, subject) -> dict:
    if message.kind != MessageKind.PREPARATION or subject.procedure_order is None:
        return {}
    kind = subject.procedure_order.procedure_type
    return {
        "needs_driver": kind.needs_driver,
        "fasting_hours": kind.fasting_hours,
        "preparation": kind.preparation,
    }


def render(message: Message, subject, policy: NotificationPolicy) -> tuple[str, str]:
    """(email subject, body) for the message's channel. Text messages and email subjects
    carry no procedure, diagnosis or medication name; email bodies may name a medication
    the patient must stop, since that is what the message is for."""
    location = message.location
    zone = location.zone if location else None
    moment = _subject_time(message, subject)
    context = {
        "message": message,
        "first_name": message.patient.first_name,
        "clinic_name": settings.CLINIC_NAME,
        "location": location,
        "phone": (location.phone if location and location.phone else settings.CLINIC_PHONE),
        "when": when_text(moment, zone) if zone else "",
        "provider": getattr(subject, "provider", None),
        "holds": _holds(message, subject) if message.channel == "email" else [],
        **_preparation(message, subject),
        **_links(message, subject, policy),
    }
    if message.kind == MessageKind.MEDICATION_HOLD and zone:
        context["hold_day"] = f"{message.due_at.astimezone(zone):%A %-d %B}"
    base = f"notifications/{message.channel}/{message.kind}"
    body = render_to_string(f"{base}.txt", context).strip()
    if message.channel == "sms":
        return "", body
    subject_line = render_to_string(f"{base}.subject.txt", context).strip()
    return " ".join(subject_line.split()), body
