"""Booking a visit. PostgreSQL's exclusion constraints are the last word on overlaps; this
turns their refusal into a 409 with nearby alternatives the caller can act on."""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.actor import Actor
from patients.models import Patient
from procedures.models import ProcedureOrder
from procedures.services import order_refresh_findings, order_schedule
from sites.models import Location, Provider, Room

from ..availability import Need, free_slots
from ..messages import appointment_booked
from ..models import Appointment, AppointmentKind, AppointmentStatus, AppointmentType, BookingPolicy

# Which constraint refused the row, and what the caller is told.
OVERLAP_CODES = {
    "appointment_no_provider_overlap": (
        "slot_taken",
        "The provider is already booked at that time.",
    ),
    "appointment_no_room_overlap": ("slot_taken", "The room is already booked at that time."),
    "appointment_no_patient_overlap": (
        "patient_busy",
        "The patient already has an appointment at that time.",
    ),
}


def _constraint_of(error: IntegrityError) -> str:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", "") or ""


def need_of(appointment_type: AppointmentType, order: ProcedureOrder | None) -> Need:
    """The one rule for what a booking occupies: a procedure's own minutes and turnover,
    otherwise the appointment type's length and buffers (availability offers the same)."""
    if order is None:
        return Need.of(appointment_type)
    return Need.of(appointment_type, order.procedure_type, len(order.levels))


def _booking_errors(
    *, appointment_type, provider, location, room, start, room_kind, order, patient
) -> dict:
    errors = {}
    if timezone.is_naive(start):
        return {"start": ["Give the time with its time zone."]}
    if start < timezone.now():
        errors["start"] = ["An appointment cannot start in the past."]
    if not appointment_type.is_active:
        errors["appointment_type"] = ["This appointment type is no longer booked."]
    if not provider.is_active or not provider.locations.filter(pk=location.pk).exists():
        errors["provider"] = ["This provider does not work at this location."]
    if room_kind and room is None:
        errors["room"] = ["This appointment needs a room."]
    if room is not None and (room.location_id != location.pk or room.kind != room_kind):
        errors["room"] = ["Choose a room of the right kind at this location."]
    if (appointment_type.kind == AppointmentKind.PROCEDURE) != (order is not None):
        errors["procedure_order"] = [
            "A procedure appointment books a procedure order, and only it."
        ]
    if order is not None and order.patient_id != patient.pk:
        errors["procedure_order"] = ["This order belongs to another patient."]
    if (
        order is not None
        and not provider.procedure_types.filter(pk=order.procedure_type_id).exists()
    ):
        errors["provider"] = ["This provider does not perform this procedure."]
    return errors


def _insert(start: datetime, need: Need, **fields: Any) -> Appointment:
    """The row: the visit [start, end) and the span it blocks for provider and room."""
    start = start.astimezone(UTC)  # arithmetic in UTC: a zone's datetimes add on the wall clock
    end = start + timedelta(minutes=need.minutes)
    return Appointment.objects.create(
        start=start,
        end=end,
        block_start=start - timedelta(minutes=need.before),
        block_end=end + timedelta(minutes=need.after),
        **fields,
    )


def _existing(by: Actor, idempotency_key: str) -> Appointment | None:
    if not idempotency_key or by.user is None:
        return None
    return Appointment.objects.filter(booked_by=by.user, idempotency_key=idempotency_key).first()


def appointment_book(
    *,
    patient,
    appointment_type: AppointmentType,
    provider: Provider,
    location: Location,
    start: datetime,
    by: Actor,
    room: Room | None = None,
    procedure_order: ProcedureOrder | None = None,
    idempotency_key: str = "",
    offered_by_clinic: bool = False,
    rescheduled: bool = False,
) -> Appointment:
    """Book a visit. A retried request with the same idempotency key returns the first
    appointment; a lost race is a 409 `slot_taken`; nothing is written on any error.
    `offered_by_clinic`: the clinic offered this exact slot (a waitlist offer), so the
    rules for patients booking on their own do not apply. The confirmation, reminders and
    preparation messages are planned in the same transaction (`rescheduled` words the
    confirmation as a move)."""
    existing = _existing(by, idempotency_key)
    if existing is not None:
        return existing
    need = need_of(appointment_type, procedure_order)
    errors = _booking_errors(
        appointment_type=appointment_type,
        provider=provider,
        location=location,
        room=room,
        start=start,
        room_kind=need.room_kind,
        order=procedure_order,
        patient=patient,
    )
    patient_rules = by.is_patient and not offered_by_clinic
    if by.is_clinic_staff and by.role not in appointment_type.bookable_by:
        errors["appointment_type"] = ["Your role does not book this kind of visit."]
    if not errors and patient_rules:
        errors = _patient_rule_errors(appointment_type, provider, location, start, procedure_order)
    if errors:
        raise ValidationFailed(errors)
    planned_day = start.astimezone(location.zone).date()
    if procedure_order is not None:
        # Kept even if the booking below is refused, so a clinician can act on it.
        order_refresh_findings(order=procedure_order, planned_date=planned_day)
    try:
        with transaction.atomic():
            if patient_rules:
                _refuse_over_cap(patient)  # under the patient's lock, so parallel books queue
            findings = []
            if procedure_order is not None:
                order = order_schedule(order=procedure_order, planned_date=planned_day, by=by)
                findings = order.findings
            appointment = _insert(
                start,
                need,
                patient=patient,
                appointment_type=appointment_type,
                provider=provider,
                location=location,
                room=room,
                procedure_order=procedure_order,
                findings=findings,
                booked_by=by.user,
                idempotency_key=idempotency_key,
            )
            appointment_booked(appointment, rescheduled=rescheduled)
            return appointment
    except IntegrityError as error:
        constraint = _constraint_of(error)
        if constraint == "appointment_idempotency_key_unique":
            existing = _existing(by, idempotency_key)  # the same request, won by a retry
            if existing is None:  # that booking is gone again: report the clash as it was
                raise
            return existing
        if constraint not in OVERLAP_CODES:
            raise
        code, detail = OVERLAP_CODES[constraint]
        nearby = nearest_slots(
            for_staff=by.is_clinic_staff,
            appointment_type=appointment_type,
            location=location,
            start=start,
            procedure_order=procedure_order,
        )
        raise Conflict(detail, code=code, alternatives=nearby) from None


ALTERNATIVES = 3


def nearest_slots(
    *, appointment_type, location, start, procedure_order=None, for_staff: bool = False
) -> list[dict]:
    """The free slots closest to a wanted start (any provider there), for a 409 answer."""

    day = start.astimezone(location.zone).date()
    procedure_type = procedure_order.procedure_type if procedure_order is not None else None
    levels = len(procedure_order.levels) if procedure_order is not None else 1
    slots = free_slots(
        appointment_type=appointment_type,
        location=location,
        procedure_type=procedure_type,
        levels=levels,
        start_date=day - timedelta(days=1),
        end_date=day + timedelta(days=1),
        for_staff=for_staff,
    )
    slots.sort(key=lambda slot: abs(slot.start - start))
    return [
        {
            "start": slot.start.isoformat(),
            "end": slot.end.isoformat(),
            "provider": str(slot.provider.pk),
            "room": str(slot.room.pk) if slot.room else None,
            "location": str(slot.location.pk),
        }
        for slot in slots[:ALTERNATIVES]
    ]


def _refuse_over_cap(patient: Patient) -> None:
    """A patient holds at most the policy's number of upcoming visits booked online. The
    patient's row is locked first, so two bookings at once are counted one after the other
    (a count alone cannot see a row another transaction has not committed yet)."""
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    cap = BookingPolicy.current().max_future_bookings
    upcoming = Appointment.objects.filter(
        patient=patient, status=AppointmentStatus.BOOKED, start__gt=timezone.now()
    ).count()
    if upcoming >= cap:
        raise Conflict(
            f"You already have {upcoming} upcoming visits, the most you can book online. "
            "Please call the clinic to book another.",
            code="booking_cap",
            upcoming=upcoming,
        )


def patient_change_refusal(appointment: Appointment, now=None, policy=None) -> str | None:
    """Why a patient may not cancel or move this booked visit themselves, or None."""
    now = now or timezone.now()
    hours = (policy or BookingPolicy.current()).change_cutoff_hours
    if appointment.start - now < timedelta(hours=hours):
        phone = appointment.location.phone
        call = f"please call the clinic{f' at {phone}' if phone else ''}"
        return f"It is less than {hours} hours before your visit: {call} to change it."
    return None


def _patient_rule_errors(appointment_type, provider, location, start, procedure_order) -> dict:
    """A patient books only what is offered: a self-bookable type, inside notice and
    horizon, at a start that availability offers."""

    if not appointment_type.patient_bookable:
        return {"appointment_type": ["This kind of visit is booked by the clinic; please call us."]}
    day = start.astimezone(location.zone).date()
    offered = free_slots(
        appointment_type=appointment_type,
        location=location,
        provider=provider,
        procedure_type=procedure_order.procedure_type if procedure_order else None,
        levels=len(procedure_order.levels) if procedure_order else 1,
        start_date=day,
        end_date=day,
    )
    if not any(slot.start == start for slot in offered):
        return {"start": ["This time is not offered: choose one of the free slots."]}
    return {}
