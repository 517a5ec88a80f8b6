"""The messages about appointments and waitlist offers: what is planned when (written to
the outbox in the caller's transaction; nothing here sends anything), and what the outbox
needs to know of these subjects, registered in SchedulingConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext

from notifications.clock import at_local, local_day, wall_clock_before
from notifications.invites import Invite
from notifications.kinds import new_link, portal_link
from notifications.models import (
    LinkPurpose,
    Message,
    MessageKind,
    NotificationPolicy,
    SubjectType,
)
from notifications.registry import SubjectKind, register_stale_check, register_subject
from notifications.services import (
    Plan,
    interface_enabled,
    interface_message_plan,
    message_reopen,
    message_schedule,
    messages_cancel,
    messages_schedule_new,
)
from procedures.models import ProcedureRecord

from . import ics, siu
from .calendar_events import patient_event
from .models import (
    HOLDS_TIME,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    OfferStatus,
    WaitlistOffer,
)
from .refill_messages import refill_visit_booked, refill_visit_released
from .selectors import visit_findings, visit_holds, visit_preparation

# --- Appointments: the plan ------------------------------------------------------------------


def _for_appointment(
    appointment: Appointment,
    kind: str,
    due_at: datetime,
    *,
    variant: str = "",
    expires_at: datetime | None = None,
    policy: NotificationPolicy | None = None,
) -> Message | None:
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


@dataclass(frozen=True)
class Planned:
    """One message a booked visit plans: its kind, when it is due, its variant and until when
    it is of use. `late_ok`: if its time has already passed it goes now (a preparation or a
    hold planned for a day that has begun), otherwise it is left out (a reminder)."""

    kind: str
    due_at: datetime
    variant: str = ""
    expires_at: datetime | None = None
    late_ok: bool = False


def appointment_plan(appointment: Appointment, policy: NotificationPolicy) -> list[Planned]:
    """What a booked visit plans besides its confirmation: reminders at the type's hours
    before (on the local wall clock); for a procedure, its preparation and the day each
    medication hold starts. Booking and an undone cancellation plan from this one list."""
    zone = appointment.location.zone
    plan = [
        Planned(
            MessageKind.APPOINTMENT_REMINDER,
            wall_clock_before(appointment.start, hours, zone),
            variant=f"{hours}h",
            expires_at=appointment.start,
        )
        for hours in sorted(set(appointment.appointment_type.reminder_hours), reverse=True)
    ]
    if appointment.procedure_order_id:
        plan += _procedure_preparation(appointment, policy)
    return plan


def appointment_booked(appointment: Appointment, *, rescheduled: bool = False) -> None:
    """A confirmation now, then the plan (a reminder whose time has passed is left out:
    booked that close, the confirmation is the reminder); a new visit has no messages yet,
    so they are written in one insert."""
    policy = NotificationPolicy.current()
    now = timezone.now()
    confirmation = Plan(
        MessageKind.APPOINTMENT_CONFIRMATION,
        now,
        variant="moved" if rescheduled else "",
        expires_at=appointment.start,
    )
    messages_schedule_new(
        patient=appointment.patient,
        subject_type=SubjectType.APPOINTMENT,
        subject_id=appointment.pk,
        location=appointment.location,
        plans=[
            confirmation,
            *(
                Plan(p.kind, max(p.due_at, now), p.variant, p.expires_at)
                for p in appointment_plan(appointment, policy)
                if p.due_at > now or p.late_ok
            ),
        ],
        policy=policy,
    )
    refill_visit_booked(appointment)
    _siu(appointment, _booking_event if rescheduled else siu.BOOKED)


def appointment_restored(appointment: Appointment) -> None:
    """An undone no-show or cancellation: the planned messages still ahead are planned again
    (those cancelled with it come back, pending), none whose time has passed; a pending
    notice that it was cancelled is dropped."""
    messages_cancel(
        subject_id=appointment.pk,
        reason="The cancellation was undone.",
        kinds=[MessageKind.APPOINTMENT_CANCELLED],
    )
    refill_visit_booked(appointment)
    _siu(appointment, _restore_event)
    policy = NotificationPolicy.current()
    now = timezone.now()
    for planned in appointment_plan(appointment, policy):
        if planned.due_at > now:
            message_reopen(
                patient=appointment.patient,
                kind=planned.kind,
                subject_type=SubjectType.APPOINTMENT,
                subject_id=appointment.pk,
                due_at=planned.due_at,
                location=appointment.location,
                variant=planned.variant,
                expires_at=planned.expires_at,
                policy=policy,
            )


def _procedure_preparation(appointment: Appointment, policy: NotificationPolicy) -> list[Planned]:
    zone = appointment.location.zone
    visit_day = local_day(appointment.start, zone)
    prepare_on = visit_day - timedelta(days=policy.preparation_days_before)
    plan = [
        Planned(
            MessageKind.PREPARATION,
            at_local(prepare_on, policy.day_message_time, zone),
            expires_at=appointment.start,
            late_ok=True,
        )
    ]
    today = local_day(timezone.now(), zone)
    for finding in appointment.findings:  # the safety check the booking just ran
        hold_start = (finding.get("details") or {}).get("hold_start")
        if not hold_start or finding.get("severity") == "info":
            continue  # no hold, or the medication is already stopped in time
        day = date.fromisoformat(hold_start)
        if day < today:
            continue  # too late to start it: the safety check blocks the booking instead
        plan.append(
            Planned(
                MessageKind.MEDICATION_HOLD,
                at_local(day, policy.day_message_time, zone),
                variant=finding["code"][:60],
                expires_at=at_local(day + timedelta(days=1), time(0, 0), zone),
                late_ok=True,
            )
        )
    return plan


def appointment_cancelled(appointment: Appointment, *, notify: bool) -> None:
    """Nothing more is sent about it; the patient is told unless it was a reschedule."""
    messages_cancel(subject_id=appointment.pk, reason="The appointment was cancelled.")
    refill_visit_released(appointment)
    if notify and appointment.start > timezone.now():
        _for_appointment(
            appointment, MessageKind.APPOINTMENT_CANCELLED, timezone.now(), expires_at=None
        )
    if notify:  # a reschedule's cancelled row is told as the new row's S13
        _siu(appointment, siu.CANCELLED)


def appointment_closed(appointment: Appointment) -> None:
    """A no-show or a visit that happened: its pending reminders are pointless."""
    messages_cancel(subject_id=appointment.pk, reason=f"The appointment is {appointment.status}.")
    if appointment.status == AppointmentStatus.NO_SHOW:
        refill_visit_released(appointment)
    _siu(
        appointment,
        siu.NO_SHOW if appointment.status == AppointmentStatus.NO_SHOW else siu.MODIFIED,
    )


# --- The practice-management system's HL7 SIU messages -------------------------------------


def _siu(
    appointment: Appointment,
    event: siu.SiuEvent | Callable[[Appointment], siu.SiuEvent],
) -> None:
    """Plan the SIU message of this change in the caller's transaction (when an interface
    is configured; an event that needs a query to tell is only worked out then); the outbox
    sends it after the visit's earlier ones were acknowledged."""
    if not interface_enabled():
        return
    if not isinstance(event, siu.SiuEvent):
        event = event(appointment)
    now = timezone.now()
    interface_message_plan(
        patient=appointment.patient,
        location=appointment.location,
        kind=event.kind,
        visit_id=appointment.calendar_uid,
        build=lambda control_id: siu.siu_message(appointment, event, control_id=control_id, at=now),
    )


def _booking_event(appointment: Appointment) -> siu.SiuEvent:
    """A move to another time is S13; the same time with another provider or room is S14."""
    before = (
        Appointment.objects.filter(calendar_uid=appointment.calendar_uid)
        .exclude(pk=appointment.pk)
        .order_by("-created_at")
        .values_list("start", flat=True)
        .first()
    )
    return siu.MODIFIED if before == appointment.start else siu.RESCHEDULED


def _restore_event(appointment: Appointment) -> siu.SiuEvent:
    """An undone cancellation books the visit again (S12: a receiver may have dropped it);
    an undone no-show only changes its status (S14)."""
    undone = appointment.status_changes.order_by("-at").values_list("to_status", flat=True)
    if undone.first() == AppointmentStatus.CANCELLED:
        return siu.BOOKED
    return siu.MODIFIED


# --- Waitlist offers: the plan ---------------------------------------------------------------


def waitlist_offered(offer: WaitlistOffer) -> None:
    message_schedule(
        patient=offer.entry.patient,
        kind=MessageKind.WAITLIST_OFFER,
        subject_type=SubjectType.WAITLIST_OFFER,
        subject_id=offer.pk,
        due_at=timezone.now(),
        location=offer.location,
        expires_at=offer.expires_at,
    )


def waitlist_offer_closed(offer: WaitlistOffer) -> None:
    messages_cancel(subject_id=offer.pk, reason=f"The offer is {offer.status}.")


# --- What the outbox asks of an appointment -------------------------------------------------


def _load_appointment(subject_id: UUID) -> Appointment | None:
    return (
        Appointment.objects.select_related("location", "provider", "procedure_order")
        .filter(pk=subject_id)
        .first()
    )


def _appointment_gone(message: Message, appointment: Appointment, at: datetime) -> str | None:
    if appointment.status != AppointmentStatus.BOOKED:
        return f"The appointment is {appointment.get_status_display().lower()}."
    if appointment.start <= at:
        return "The appointment has started."
    return None


def _hold_gone(message: Message, appointment: Appointment, at: datetime) -> str | None:
    gone = _appointment_gone(message, appointment, at)
    if gone:
        return gone
    if not any(f.get("code", "")[:60] == message.variant for f in visit_findings(appointment)):
        return "The safety check no longer asks for this hold."
    return None


def _not_cancelled(message: Message, appointment: Appointment, at: datetime) -> str | None:
    if appointment.status == AppointmentStatus.CANCELLED:
        return None
    return "The appointment is not cancelled."


def _holds(message: Message, appointment: Appointment) -> list[str]:
    if message.channel != "email" or message.kind not in (
        MessageKind.PREPARATION,
        MessageKind.MEDICATION_HOLD,
    ):
        return []
    return [  # as the portal shows them (scheduling.selectors.visit_holds)
        hold.text
        for hold in visit_holds(appointment)
        if message.kind == MessageKind.PREPARATION or hold.code[:60] == message.variant
    ]


def _preparation(message: Message, appointment: Appointment) -> dict[str, Any]:
    preparation = visit_preparation(appointment)
    if message.kind != MessageKind.PREPARATION or preparation is None:
        return {}
    return {
        "needs_driver": preparation.needs_driver,
        "fasting_hours": preparation.fasting_hours,
        "preparation": preparation.text,
    }


# A confirmation or a reminder lets the patient act on the visit: an email carries a link
# for each action, a text message one link to a page offering all three (texts stay short).
VISIT_LINKS = {
    "email": (LinkPurpose.CONFIRM, LinkPurpose.RESCHEDULE, LinkPurpose.CANCEL),
    "sms": (LinkPurpose.MANAGE,),
}


def _appointment_links(message: Message, appointment: Appointment) -> dict[str, str]:
    links = portal_link()
    if message.kind not in (
        MessageKind.APPOINTMENT_CONFIRMATION,
        MessageKind.APPOINTMENT_REMINDER,
    ):
        return links
    for purpose in VISIT_LINKS[message.channel]:
        links[f"{purpose}_link"] = new_link(
            purpose=purpose,
            message=message,
            subject_id=appointment.pk,
            expires_at=appointment.start,
        )
    return links


def _appointment_context(
    message: Message, appointment: Appointment, policy: NotificationPolicy
) -> dict[str, Any]:
    return {
        "holds": _holds(message, appointment),
        **_preparation(message, appointment),
        **_appointment_links(message, appointment),
    }


def _appointment_invite(message: Message, appointment: Appointment) -> Invite | None:
    """A confirmation (of a booking or a move) brings the visit into the patient's calendar
    or updates it there; a cancellation takes it out."""
    if message.kind == MessageKind.APPOINTMENT_CONFIRMATION:
        method = ics.REQUEST
    elif message.kind == MessageKind.APPOINTMENT_CANCELLED:
        method = ics.CANCEL
    else:
        return None
    event = patient_event(appointment, attendee=message.patient.email)
    text = ics.calendar(
        [event], name=gettext("Clinic appointment"), stamp=timezone.now(), method=method
    )
    return Invite(method=method, text=text)


# --- What the outbox asks of a waitlist offer -----------------------------------------------


def _load_offer(subject_id: UUID) -> WaitlistOffer | None:
    return (
        WaitlistOffer.objects.select_related("location", "provider").filter(pk=subject_id).first()
    )


def _offer_closed(message: Message, offer: WaitlistOffer, at: datetime) -> str | None:
    if offer.status != OfferStatus.OPEN or offer.expires_at <= at:
        return "The offer is no longer open."
    return None


def _offer_context(
    message: Message, offer: WaitlistOffer, policy: NotificationPolicy
) -> dict[str, Any]:
    link = new_link(
        purpose=LinkPurpose.WAITLIST_OFFER,
        message=message,
        subject_id=offer.pk,
        expires_at=offer.expires_at,
    )
    return {"link": link}


# --- Follow-ups after a procedure that a booked visit makes pointless ----------------------


def _visit_booked(message: Message, record: ProcedureRecord, at: datetime) -> str | None:
    booked = Appointment.objects.filter(
        patient_id=record.patient_id, status__in=HOLDS_TIME, start__gt=record.performed_at
    ).exclude(appointment_type__kind=AppointmentKind.PROCEDURE)
    return "A follow-up visit is booked." if booked.exists() else None


def _refill_arranged(message: Message, record: ProcedureRecord, at: datetime) -> str | None:
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


def register() -> None:
    register_subject(
        SubjectType.APPOINTMENT,
        SubjectKind(
            load=_load_appointment,
            moment=lambda appointment: appointment.start,
            context=_appointment_context,
            invite=_appointment_invite,
        ),
    )
    register_subject(
        SubjectType.WAITLIST_OFFER,
        SubjectKind(load=_load_offer, moment=lambda offer: offer.start, context=_offer_context),
    )
    for kind in (
        MessageKind.APPOINTMENT_CONFIRMATION,
        MessageKind.APPOINTMENT_REMINDER,
        MessageKind.PREPARATION,
    ):
        register_stale_check(kind, _appointment_gone)
    register_stale_check(MessageKind.MEDICATION_HOLD, _hold_gone)
    register_stale_check(MessageKind.APPOINTMENT_CANCELLED, _not_cancelled)
    register_stale_check(MessageKind.WAITLIST_OFFER, _offer_closed)
    register_stale_check(MessageKind.FOLLOW_UP_VISIT, _visit_booked)
    register_stale_check(MessageKind.PUMP_REFILL, _refill_arranged)
