"""Booking a visit. PostgreSQL's exclusion constraints are the last word on overlaps; this
turns their refusal into a 409 with nearby alternatives the caller can act on.

Competing bookings queue before they insert (`lock_times`): an exclusion constraint is
checked after the new row's index entry is in, so two transactions inserting clashing rows
at the same moment each find the other's entry and wait for it — a deadlock PostgreSQL
breaks by killing one (a 500 before). Waiting first on an advisory lock per provider, room
and patient day turns that into plain queueing: the second sees the first's committed row
and gets its 409. A deadlock or serialization failure left anyway is retried (the whole
transaction) and then answered 409 `slot_taken` with alternatives, never a 500.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinic.audit.writes import written_as_actor
from clinic.core.bounds import booking_horizon_errors
from clinic.core.db import lock_keys, retry_on_contention
from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.core.templatetags.phones import phone as phone_for_people
from clinic.users.actor import Actor, ActorChannel
from patients.models import Patient
from procedures.models import ProcedureOrder
from procedures.services import order_refresh_findings, order_schedule
from sites.models import Location, Provider, Room

from ..availability import Need, Slot, free_slots, offer_at
from ..messages import appointment_booked
from ..models import (
    HOLDS_TIME,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    BookingPolicy,
)

# Which constraint refused the row, and what the caller is told.
OVERLAP_CODES = {
    "appointment_no_provider_overlap": (
        "slot_taken",
        gettext_lazy("The provider is already booked at that time."),
    ),
    "appointment_no_room_overlap": (
        "slot_taken",
        gettext_lazy("The room is already booked at that time."),
    ),
    "appointment_no_patient_overlap": (
        "patient_busy",
        gettext_lazy("The patient already has an appointment at that time."),
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
        return {"start": [_("Give the time with its time zone.")]}
    if start < timezone.now():
        errors["start"] = [_("An appointment cannot start in the past.")]
    errors |= booking_horizon_errors(start)
    if not appointment_type.is_active:
        errors["appointment_type"] = [_("This appointment type is no longer booked.")]
    if not provider.is_active or not provider.locations.filter(pk=location.pk).exists():
        errors["provider"] = [_("This provider does not work at this location.")]
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


def spans(start: datetime, need: Need) -> dict[str, datetime]:
    """The visit [start, end) and the span it blocks for provider and room, in UTC."""
    start = start.astimezone(UTC)  # arithmetic in UTC: a zone's datetimes add on the wall clock
    end = start + timedelta(minutes=need.minutes)
    return {
        "start": start,
        "end": end,
        "block_start": start - timedelta(minutes=need.before),
        "block_end": end + timedelta(minutes=need.after),
    }


def _insert(start: datetime, need: Need, **fields: Any) -> Appointment:
    return Appointment.objects.create(**spans(start, need), **fields)


def _same_calendar_event(replaced: Appointment | None) -> dict[str, Any]:
    if replaced is None:
        return {}
    return {
        "calendar_uid": replaced.calendar_uid,
        "calendar_sequence": replaced.calendar_sequence + 1,
    }


def _utc_days(start: datetime, end: datetime) -> list[date]:
    first, last = start.astimezone(UTC).date(), (end - timedelta.resolution).astimezone(UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def lock_times(
    *,
    provider_id: UUID,
    room_id: UUID | None,
    patient_id: UUID,
    start: datetime,
    end: datetime,
    block_start: datetime,
    block_end: datetime,
) -> None:
    """Queue behind any other write of this provider's, room's or patient's UTC days (the
    days the blocked span, or for the patient the visit, touches) until this transaction
    ends. Call it first thing in the transaction, before any row is written."""
    blocked = _utc_days(block_start, block_end)
    keys = [f"provider:{provider_id}:{day}" for day in blocked]
    keys += [f"room:{room_id}:{day}" for day in blocked if room_id is not None]
    keys += [f"patient:{patient_id}:{day}" for day in _utc_days(start, end)]
    lock_keys(*keys)


def lock_times_of(appointment: Appointment) -> None:
    lock_times(
        provider_id=appointment.provider_id,
        room_id=appointment.room_id,
        patient_id=appointment.patient_id,
        start=appointment.start,
        end=appointment.end,
        block_start=appointment.block_start,
        block_end=appointment.block_end,
    )


def _existing(by: Actor, idempotency_key: str) -> Appointment | None:
    if not idempotency_key or by.user is None:
        return None
    return Appointment.objects.filter(booked_by=by.user, idempotency_key=idempotency_key).first()


def _taken_meanwhile(
    *, appointment_type, location, start, by, provider, procedure_order=None, **_: Any
) -> Conflict:
    """Still contended after the retries: the time went to a competing booking."""
    code, detail = OVERLAP_CODES["appointment_no_provider_overlap"]
    alternatives = nearest_slots(
        for_staff=by.is_clinic_staff,
        appointment_type=appointment_type,
        location=location,
        start=start,
        procedure_order=procedure_order,
        provider=provider,
    )
    return Conflict(detail, code=code, alternatives=alternatives)


@written_as_actor
@retry_on_contention(exhausted=_taken_meanwhile)
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
    rescheduled_from: Appointment | None = None,
    overbook_reason: str | None = None,
) -> Appointment:
    """Book a visit. A retried request with the same idempotency key returns the first
    appointment; a lost race is a 409 `slot_taken`; nothing is written on any error.

    Staff booking through the pages, the API or the admin book only what availability
    offers (provider and start; the room is the offered one unless another of the right
    kind is named, and the room constraint decides); a time it does not offer is a 400 on
    `start` naming the nearest offered ones, unless it is an overbook: `overbook_reason`
    given (not None) asks for one, which needs a reason and a role the booking policy
    allows, and is kept on the row (`overbooked`, the reason, who booked it and when).
    `offered_by_clinic`: the clinic offered this exact slot (a waitlist offer), so the
    rules for patients booking on their own do not apply. The confirmation, reminders and
    preparation messages are planned in the same transaction. `rescheduled_from`: the
    visit this one replaces, whose calendar event it takes over (same UID, next sequence);
    its confirmation is worded as a move."""
    existing = _existing(by, idempotency_key)
    if existing is not None:
        return existing
    need = need_of(appointment_type, procedure_order)
    overbook = _overbook_reason(by, overbook_reason)
    held = overbook is None and _held_to_offers(by, offered_by_clinic)
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
    if held and room is None:
        errors.pop("room", None)  # the offered slot carries the room availability chose
    patient_rules = by.is_patient and not offered_by_clinic
    if by.is_clinic_staff and by.role not in appointment_type.bookable_by:
        errors["appointment_type"] = ["Your role does not book this kind of visit."]
    if not errors and patient_rules:
        errors = _patient_rule_errors(appointment_type, provider, location, start, procedure_order)
    if errors:
        raise ValidationFailed(errors)
    if held:
        room = _offered_room(
            appointment_type=appointment_type,
            provider=provider,
            location=location,
            room=room,
            start=start,
            procedure_order=procedure_order,
            need=need,
        )
    return _book(
        start,
        need,
        by=by,
        patient_rules=patient_rules,
        rescheduled_from=rescheduled_from,
        patient=patient,
        appointment_type=appointment_type,
        provider=provider,
        location=location,
        room=room,
        procedure_order=procedure_order,
        idempotency_key=idempotency_key,
        overbooked=overbook is not None,
        overbook_reason=overbook or "",
    )


def _book(
    start: datetime,
    need: Need,
    *,
    by: Actor,
    patient_rules: bool,
    rescheduled_from: Appointment | None,
    **fields: Any,
) -> Appointment:
    """The write: the order's safety check, the row and its messages, in one transaction;
    a constraint's refusal becomes a 409 with the free slots nearby."""
    location, procedure_order = fields["location"], fields["procedure_order"]
    planned_day = start.astimezone(location.zone).date()
    if procedure_order is not None:
        # Kept even if the booking below is refused, so a clinician can act on it.
        order_refresh_findings(order=procedure_order, planned_date=planned_day)
    try:
        with transaction.atomic():
            room = fields["room"]
            lock_times(
                provider_id=fields["provider"].pk,
                room_id=room.pk if room is not None else None,
                patient_id=fields["patient"].pk,
                **spans(start, need),
            )
            if patient_rules:
                _refuse_over_cap(
                    fields["patient"]
                )  # under the patient's lock: parallel books queue
            findings = []
            if procedure_order is not None:
                order = order_schedule(order=procedure_order, planned_date=planned_day, by=by)
                findings = order.findings
            appointment = _insert(
                start,
                need,
                findings=findings,
                booked_by=by.user,
                **_same_calendar_event(rescheduled_from),
                **fields,
            )
            appointment_booked(appointment, rescheduled=rescheduled_from is not None)
            return appointment
    except IntegrityError as error:
        constraint = _constraint_of(error)
        if constraint == "appointment_idempotency_key_unique":
            existing = _existing(by, fields["idempotency_key"])  # the same request, retried
            if existing is None:  # that booking is gone again: report the clash as it was
                raise
            return existing
        if constraint not in OVERLAP_CODES:
            raise
        raise _overlap_conflict(constraint, by, start, fields) from None


def _overlap_conflict(constraint: str, by: Actor, start: datetime, fields: dict) -> Conflict:
    code, detail = OVERLAP_CODES[constraint]
    nearby = nearest_slots(
        for_staff=by.is_clinic_staff,
        appointment_type=fields["appointment_type"],
        location=fields["location"],
        start=start,
        procedure_order=fields["procedure_order"],
        provider=fields["provider"],
    )
    return Conflict(detail, code=code, alternatives=nearby)


# Staff are held to what availability offers on these channels; the system (the demo seed,
# imports, beat) and a deliberate overbook are not.
OFFERED_ONLY_CHANNELS = frozenset({ActorChannel.DESK, ActorChannel.API, ActorChannel.ADMIN})
NEAREST_NAMED = 3


def _held_to_offers(by: Actor, offered_by_clinic: bool) -> bool:
    """A move (a drag on the calendar) is held too: outside hours or on top of another visit
    is only ever a deliberate overbook."""
    return by.is_clinic_staff and by.channel in OFFERED_ONLY_CHANNELS and not offered_by_clinic


def _overbook_reason(by: Actor, reason: str | None) -> str | None:
    """None when no overbook is asked for; else its reason, once the role may overbook."""
    if reason is None:
        return None
    allowed = BookingPolicy.current().overbook_roles
    if not by.is_clinic_staff or by.role not in allowed:
        names = ", ".join(r.replace("_", " ") for r in allowed) or "no role"
        raise Forbidden(
            f"Your role may not overbook; the booking policy allows: {names}.",
            code="overbook_not_allowed",
        )
    if not reason.strip():
        raise ValidationFailed({"overbook_reason": ["Say why this visit is overbooked."]})
    return reason.strip()[:300]


def _slot_dict(slot: Slot) -> dict:
    return {
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "provider": str(slot.provider.pk),
        "room": str(slot.room.pk) if slot.room else None,
        "location": str(slot.location.pk),
    }


def _offered_room(
    *,
    appointment_type: AppointmentType,
    provider: Provider,
    location: Location,
    room: Room | None,
    start: datetime,
    procedure_order: ProcedureOrder | None,
    need: Need,
) -> Room | None:
    """The room to book when availability offers this provider at this start (the named
    room, or the one the slot carries); otherwise a 409 when the provider's or the room's
    time is taken, a 400 on `start` naming the nearest offered times when it is not. The
    booking asks about that one start (`offer_at`: one statement); only a refusal reads
    availability of the day and the days either side, which a 409's alternatives reuse."""
    zone = location.zone
    day = start.astimezone(zone).date()

    def provider_slots(days_either_side: int) -> list[Slot]:
        return free_slots(
            appointment_type=appointment_type,
            location=location,
            provider=provider,
            procedure_type=procedure_order.procedure_type if procedure_order else None,
            levels=len(procedure_order.levels) if procedure_order else 1,
            start_date=day - timedelta(days=days_either_side),
            end_date=day + timedelta(days=days_either_side),
            for_staff=True,
        )

    offer = offer_at(
        appointment_type=appointment_type,
        location=location,
        provider=provider,
        start=start,
        need=need,
        for_staff=True,
    )
    if offer is not None:
        return room if room is not None else offer.room
    nearby = provider_slots(1)
    taken_by = _taken(provider, room, start, need)
    if taken_by:
        code, detail = OVERLAP_CODES[taken_by]
        alternatives = nearest_slots(
            for_staff=True,
            appointment_type=appointment_type,
            location=location,
            start=start,
            procedure_order=procedure_order,
            provider=provider,
            provider_slots=nearby,
        )
        raise Conflict(detail, code=code, alternatives=alternatives)
    slots = [slot for slot in nearby if slot.local_start.date() == day]
    slots.sort(key=lambda slot: abs(slot.start - start))
    nearest = slots[:NEAREST_NAMED]
    when = start.astimezone(zone)
    text = f"{when:%a %b %d}, {_clock(when)} is not offered for {provider.display_name}"
    if nearest:
        times = ", ".join(_clock(slot.local_start) for slot in sorted(nearest, key=_start))
        text += f"; the nearest offered times that day: {times}."
    else:
        text += " on that day: choose another day, or overbook with a reason."
    error = ValidationFailed({"start": [text]})
    error.extra["alternatives"] = [_slot_dict(slot) for slot in nearest]
    raise error


def _start(slot: Slot) -> datetime:
    return slot.start


def _clock(moment: datetime) -> str:
    return f"{moment:%I:%M %p}".lstrip("0")


def _taken(provider: Provider, room: Room | None, start: datetime, need: Need) -> str:
    """The constraint an active visit would trip, holding the provider's time (a visit not
    overbooked) or the room's; "" when neither is held."""
    start = start.astimezone(UTC)
    span = Q(
        status__in=HOLDS_TIME,
        block_start__lt=start + timedelta(minutes=need.minutes + need.after),
        block_end__gt=start - timedelta(minutes=need.before),
    )
    visits = Appointment.objects.filter(span)
    if visits.filter(provider=provider, overbooked=False).exists():
        return "appointment_no_provider_overlap"
    if room is not None and visits.filter(room=room).exists():
        return "appointment_no_room_overlap"
    return ""


ALTERNATIVES = 3


def nearest_slots(
    *,
    appointment_type,
    location,
    start,
    procedure_order=None,
    for_staff: bool = False,
    provider: Provider | None = None,
    provider_slots: list[Slot] | None = None,
) -> list[dict]:
    """The free slots closest to a wanted start, for a 409 answer: the asked provider's
    first (that local day and the days either side; `provider_slots` when the caller has
    read them already), then, when they have fewer than three, any provider's there.
    Bounded work: one availability read of the provider's three days, and a second of the
    location's only when needed."""
    day = start.astimezone(location.zone).date()
    window = {
        "appointment_type": appointment_type,
        "location": location,
        "procedure_type": procedure_order.procedure_type if procedure_order is not None else None,
        "levels": len(procedure_order.levels) if procedure_order is not None else 1,
        "start_date": day - timedelta(days=1),
        "end_date": day + timedelta(days=1),
        "for_staff": for_staff,
    }
    nearest = []
    if provider is not None:
        mine = (
            provider_slots
            if provider_slots is not None
            else free_slots(provider=provider, **window)
        )
        nearest = _closest(mine, start)
    if len(nearest) < ALTERNATIVES:
        others = [slot for slot in free_slots(**window) if slot.provider != provider]
        nearest += _closest(others, start)[: ALTERNATIVES - len(nearest)]
    return [_slot_dict(slot) for slot in nearest]


def _closest(slots: list[Slot], start: datetime) -> list[Slot]:
    return sorted(slots, key=lambda slot: abs(slot.start - start))[:ALTERNATIVES]


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
            _(
                "You already have %(upcoming)s upcoming visits, the most you can book online. "
                "Please call the clinic to book another."
            )
            % {"upcoming": upcoming},
            code="booking_cap",
            upcoming=upcoming,
        )


def patient_change_refusal(appointment: Appointment, now=None, policy=None) -> str | None:
    """Why a patient may not cancel or move this booked visit themselves, or None."""
    now = now or timezone.now()
    hours = (policy or BookingPolicy.current()).change_cutoff_hours
    if appointment.start - now < timedelta(hours=hours):
        phone = phone_for_people(appointment.location.phone)
        if phone:
            return _(
                "It is less than %(hours)s hours before your visit: please call the clinic "
                "at %(phone)s to change it."
            ) % {"hours": hours, "phone": phone}
        return _(
            "It is less than %(hours)s hours before your visit: please call the clinic to "
            "change it."
        ) % {"hours": hours}
    return None


def _patient_rule_errors(appointment_type, provider, location, start, procedure_order) -> dict:
    """A patient books only what is offered: a self-bookable type, inside notice and
    horizon, at a start that availability offers."""

    if not appointment_type.patient_bookable:
        return {
            "appointment_type": [_("This kind of visit is booked by the clinic; please call us.")]
        }
    offered = offer_at(
        appointment_type=appointment_type,
        location=location,
        provider=provider,
        start=start,
        need=need_of(appointment_type, procedure_order),
        for_staff=False,
    )
    if offered is None:
        _refuse_taken_meanwhile(appointment_type, provider, location, start, procedure_order)
        return {"start": [_("This time is not offered: choose one of the free slots.")]}
    return {}


def _refuse_taken_meanwhile(appointment_type, provider, location, start, procedure_order) -> None:
    """A patient who lost the race for the time they chose hears so, as staff do: a 409
    `slot_taken` with the free times nearest to it."""
    if not _taken(provider, None, start, need_of(appointment_type, procedure_order)):
        return
    raise Conflict(
        OVERLAP_CODES["appointment_no_provider_overlap"][1],
        code="slot_taken",
        alternatives=nearest_slots(
            appointment_type=appointment_type,
            location=location,
            start=start,
            procedure_order=procedure_order,
            provider=provider,
        ),
    )
