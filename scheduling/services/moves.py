"""Moving an appointment through its states: check-in, in room, complete, no-show, cancel,
reschedule, the patient's confirmation, and visits entered afterwards."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.core.errors import Conflict, ValidationFailed
from clinic.core.states import move_state
from clinic.users.actor import Actor
from patients.models import Patient
from procedures.services import order_unschedule
from sites.models import Location, Provider, Room

from ..messages import appointment_cancelled, appointment_closed
from ..models import Appointment, AppointmentStatus, AppointmentType
from .booking import (
    OVERLAP_CODES,
    _booking_errors,
    _constraint_of,
    _insert,
    appointment_book,
    need_of,
    patient_change_refusal,
)
from .waitlist import offer_freed_slot

TRANSITIONS = {
    AppointmentStatus.BOOKED: {
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    },
    AppointmentStatus.CHECKED_IN: {AppointmentStatus.IN_ROOM, AppointmentStatus.CANCELLED},
    AppointmentStatus.IN_ROOM: {AppointmentStatus.COMPLETED},
    AppointmentStatus.COMPLETED: set(),
    AppointmentStatus.CANCELLED: set(),
    AppointmentStatus.NO_SHOW: set(),
}


def _move(appointment: Appointment, to: str) -> None:
    move_state(appointment, to, TRANSITIONS, "An appointment")


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    start: datetime,
    by: Actor,
    provider: Provider | None = None,
    room: Room | None = None,
) -> Appointment:
    """Move a booked appointment in one transaction: if the new time cannot be booked, the
    old appointment stays exactly as it was."""
    old = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related(
            "appointment_type", "provider", "location", "room", "procedure_order", "patient"
        )
        .get(pk=appointment.pk)
    )
    if old.status != AppointmentStatus.BOOKED:
        raise Conflict(
            f"An appointment that is {old.status} cannot be rescheduled.",
            code="illegal_transition",
            status=old.status,
        )
    _refuse_late_patient_change(old, by)
    old.status, old.cancel_reason = AppointmentStatus.CANCELLED, "Rescheduled"
    old.cancelled_by = by.user
    old.save(update_fields=["status", "cancel_reason", "cancelled_by", "updated_at"])
    appointment_cancelled(old, notify=False)  # the new booking's confirmation says it moved
    order = old.procedure_order
    if order is not None:
        order = order_unschedule(order=order, by=by)
    return appointment_book(
        patient=old.patient,
        appointment_type=old.appointment_type,
        provider=provider or old.provider,
        location=old.location,
        room=room if room is not None else old.room,
        start=start,
        by=by,
        procedure_order=order,
        rescheduled=True,
    )


@transaction.atomic
def appointment_move(
    *, appointment: Appointment, to: str, by: Actor, reason: str = ""
) -> Appointment:
    """Check in, in room, complete, no-show or cancel (a cancellation needs a reason)."""
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("location")
        .get(pk=appointment.pk)
    )
    if to == AppointmentStatus.CANCELLED:
        _refuse_late_patient_change(appointment, by)
    _move(appointment, to)  # an illegal move is a 409 before any missing reason
    if to == AppointmentStatus.CANCELLED and not reason.strip():
        raise ValidationFailed({"reason": ["Say why the appointment is cancelled."]})
    if to == AppointmentStatus.CANCELLED:
        appointment.cancel_reason, appointment.cancelled_by = reason.strip()[:300], by.user
    appointment.save()
    if to == AppointmentStatus.CANCELLED:
        appointment_cancelled(appointment, notify=True)
        offer_freed_slot(appointment)
    else:
        appointment_closed(appointment)
    if (
        to in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
        and appointment.procedure_order is not None
    ):
        order_unschedule(order=appointment.procedure_order, by=by)
    return appointment


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, by: Actor) -> Appointment:
    """The patient says they will come (from a reminder's link)."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict("This visit is no longer booked.", code="not_booked")
    appointment.confirmed_at = timezone.now()
    appointment.save(update_fields=["confirmed_at", "updated_at"])
    return appointment


PAST_OUTCOMES = (
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.CANCELLED,
)


def appointment_backfill(
    *,
    patient: Patient,
    appointment_type: AppointmentType,
    provider: Provider,
    location: Location,
    start: datetime,
    status: str,
    by: Actor,
    room: Room | None = None,
    reason: str = "",
) -> Appointment:
    """Enter a visit that already happened, with how it ended (a history imported from a
    previous system, or a walk-in written up afterwards). The overlap constraints apply as
    for any booking; only the rule that a booking starts in the future does not."""
    need = need_of(appointment_type, None)
    errors = _booking_errors(
        appointment_type=appointment_type,
        provider=provider,
        location=location,
        room=room,
        start=start,
        room_kind=need.room_kind,
        order=None,
        patient=patient,
    )
    errors.pop("start", None)
    if timezone.is_naive(start) or start >= timezone.now():
        errors["start"] = ["A visit entered afterwards starts in the past, with its time zone."]
    if status not in PAST_OUTCOMES:
        errors["status"] = ["Say how the visit ended: completed, no-show or cancelled."]
    if status == AppointmentStatus.CANCELLED and not reason.strip():
        errors["reason"] = ["Say why it was cancelled."]
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            return _insert(
                start,
                need,
                patient=patient,
                appointment_type=appointment_type,
                provider=provider,
                location=location,
                room=room,
                status=status,
                cancel_reason=reason.strip()[:300],
                cancelled_by=by.user if status == AppointmentStatus.CANCELLED else None,
                booked_by=by.user,
            )
    except IntegrityError as error:
        overlap = OVERLAP_CODES.get(_constraint_of(error))
        if overlap is None:
            raise
        code, detail = overlap
        raise Conflict(detail, code=code) from None


def _refuse_late_patient_change(appointment: Appointment, by: Actor) -> None:
    """A patient (in the portal, the API or from a message's link) changes a visit only
    while it is booked and far enough ahead; the clinic may always."""
    if not by.is_patient:
        return
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict(
            f"This visit is {appointment.get_status_display().lower()}; it cannot be changed.",
            code="illegal_transition",
            status=appointment.status,
        )
    refusal = patient_change_refusal(appointment)
    if refusal:
        raise Conflict(refusal, code="too_late_to_change")
