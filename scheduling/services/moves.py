"""Moving an appointment through its states: check-in, in room, complete, no-show, cancel,
reschedule, undoing a no-show or a cancellation, the patient's confirmation, and visits
entered afterwards. Every move is stamped and logged (AppointmentStatusChange)."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.audit.writes import written_as_actor
from clinic.core.db import retry_on_contention
from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.core.states import move_state
from clinic.users.actor import Actor
from patients.models import Patient
from procedures.models import OrderStatus, ProcedureOrder
from procedures.services import order_schedule, order_unschedule
from sites.models import Location, Provider, Room

from ..messages import (
    appointment_cancelled,
    appointment_closed,
    appointment_restored,
    waitlist_offer_closed,
)
from ..models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    OfferStatus,
    WaitlistOffer,
    WaitlistStatus,
)
from ..selectors import RELEASES, RESCHEDULED, local_label, undoable_release
from .booking import (
    OVERLAP_CODES,
    _booking_errors,
    _constraint_of,
    _insert,
    appointment_book,
    lock_times,
    lock_times_of,
    nearest_slots,
    need_of,
    patient_change_refusal,
    spans,
)
from .waitlist import offer_freed_slot

TRANSITIONS: dict[str, set[str]] = {
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


# The stamp each move sets on the appointment, so the board shows the waits.
STAMPS: dict[str, str] = {
    AppointmentStatus.CHECKED_IN: "checked_in_at",
    AppointmentStatus.IN_ROOM: "in_room_at",
    AppointmentStatus.COMPLETED: "completed_at",
}
# Moves that only make sense on the visit's own local day, and those only after its start.
ON_THE_DAY = {AppointmentStatus.CHECKED_IN, AppointmentStatus.NO_SHOW}
AFTER_START = {AppointmentStatus.NO_SHOW}
# How a refused early move is named to the desk.
MOVE_WORDS: dict[str, str] = {
    AppointmentStatus.CHECKED_IN: "checked in",
    AppointmentStatus.NO_SHOW: "marked a no-show",
}


def _move(appointment: Appointment, to: str) -> None:
    move_state(appointment, to, TRANSITIONS, "An appointment")


def _refuse_early(appointment: Appointment, to: str, now: datetime) -> None:
    """Check-in and no-show on the visit's local day only, a no-show after its start."""
    zone = appointment.location.zone
    when = local_label(appointment.start, appointment.location)
    if (
        to in ON_THE_DAY
        and appointment.start.astimezone(zone).date() != now.astimezone(zone).date()
    ):
        raise Conflict(
            f"This visit is on {when}: it can be {MOVE_WORDS[to]} only on its day.",
            code="not_today",
            status=appointment.status,
            to=to,
        )
    if to in AFTER_START and now < appointment.start:
        raise Conflict(
            f"This visit starts at {when}: it can be marked a no-show only after it starts.",
            code="not_started",
            status=appointment.status,
            to=to,
        )


def _log(
    appointment: Appointment,
    *,
    from_status: str,
    by: Actor,
    at: datetime,
    reason: str = "",
    undo: bool = False,
) -> AppointmentStatusChange:
    return AppointmentStatusChange.objects.create(
        appointment=appointment,
        from_status=from_status,
        to_status=appointment.status,
        at=at,
        by=by.user,
        channel=by.channel,
        reason=reason[:300],
        undo=undo,
    )


def _release_order(order: ProcedureOrder | None, by: Actor) -> ProcedureOrder | None:
    """The visit no longer holds its procedure order: it is authorized again (to book)."""
    if order is None or order.status != OrderStatus.SCHEDULED:
        return order
    return order_unschedule(order=order, by=by)


def _move_taken_meanwhile(
    *, appointment: Appointment, start: datetime, by: Actor, provider: Provider | None = None, **_
) -> Conflict:
    """Still contended after the retries: the new time went to a competing booking."""
    code, detail = OVERLAP_CODES["appointment_no_provider_overlap"]
    alternatives = nearest_slots(
        for_staff=by.is_clinic_staff,
        appointment_type=appointment.appointment_type,
        location=appointment.location,
        start=start,
        procedure_order=appointment.procedure_order,
        provider=provider or appointment.provider,
    )
    return Conflict(detail, code=code, alternatives=alternatives)


def _lock_move(appointment: Appointment, start: datetime, provider, room) -> None:
    """The old time's provider, room and patient days and the new one's, before the old
    row is touched (its update would otherwise hold the old slot against another booking
    queued on these locks)."""
    new = spans(start, need_of(appointment.appointment_type, appointment.procedure_order))
    keep_room = room if room is not None else appointment.room
    lock_times_of(appointment)
    lock_times(
        provider_id=provider.pk if provider is not None else appointment.provider_id,
        room_id=keep_room.pk if keep_room is not None else None,
        patient_id=appointment.patient_id,
        **new,
    )


@written_as_actor
@retry_on_contention(exhausted=_move_taken_meanwhile)
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
    old appointment stays exactly as it was. The old one is logged as cancelled
    ("Rescheduled"), which is not undone: the visit is moved again instead. Its procedure
    order goes back to authorized and the new booking schedules it for the new day. A
    deadlock or serialization failure reruns the whole move, then is a 409 `slot_taken`."""
    if timezone.is_aware(start):
        _lock_move(appointment, start, provider, room)
    old = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related(
            "appointment_type", "provider", "location", "room", "procedure_order", "patient"
        )
        .get(pk=appointment.pk)
    )
    if old.status != AppointmentStatus.BOOKED:
        raise Conflict(
            _("An appointment that is %(status)s cannot be rescheduled.")
            % {"status": old.get_status_display().lower()},
            code="illegal_transition",
            status=old.status,
        )
    _refuse_late_patient_change(old, by)
    old.status, old.cancel_reason = AppointmentStatus.CANCELLED, RESCHEDULED
    old.cancelled_by = by.user
    old.save(update_fields=["status", "cancel_reason", "cancelled_by", "updated_at"])
    _log(old, from_status=AppointmentStatus.BOOKED, by=by, at=timezone.now(), reason=RESCHEDULED)
    appointment_cancelled(old, notify=False)  # the new booking's confirmation says it moved
    order = _release_order(old.procedure_order, by)
    return appointment_book(
        patient=old.patient,
        appointment_type=old.appointment_type,
        provider=provider or old.provider,
        location=old.location,
        room=room if room is not None else old.room,
        start=start,
        by=by,
        procedure_order=order,
        rescheduled_from=old,
    )


@written_as_actor
@transaction.atomic
def appointment_move(
    *, appointment: Appointment, to: str, by: Actor, reason: str = ""
) -> Appointment:
    """Check in, in room, complete, no-show or cancel (a cancellation needs a reason). An
    illegal move is a 409 `illegal_transition`; a check-in or no-show on another day than
    the visit's is `not_today`, a no-show before the start `not_started`."""
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("location", "procedure_order", "appointment_type")
        .get(pk=appointment.pk)
    )
    if to == AppointmentStatus.CANCELLED:
        _refuse_late_patient_change(appointment, by)
    now = timezone.now()
    was = appointment.status
    _move(appointment, to)  # an illegal move is a 409 before any missing reason
    _refuse_early(appointment, to, now)
    if to == AppointmentStatus.CANCELLED and not reason.strip():
        raise ValidationFailed({"reason": ["Say why the appointment is cancelled."]})
    if to == AppointmentStatus.CANCELLED:
        appointment.cancel_reason, appointment.cancelled_by = reason.strip()[:300], by.user
        appointment.calendar_sequence += 1
    if to in STAMPS:
        setattr(appointment, STAMPS[to], now)
    appointment.save()
    _log(appointment, from_status=was, by=by, at=now, reason=reason.strip())
    if to == AppointmentStatus.CANCELLED:
        appointment_cancelled(appointment, notify=True)
        offer_freed_slot(appointment)
    else:
        appointment_closed(appointment)
    if to in RELEASES:
        _release_order(appointment.procedure_order, by)
    return appointment


# --- Undo ---------------------------------------------------------------------------------


def _withdraw_offers(appointment: Appointment) -> None:
    """The freed slot is taken again: its open waitlist offers close, their patients wait."""
    offers = WaitlistOffer.objects.select_for_update().select_related("entry")
    for offer in offers.filter(
        status=OfferStatus.OPEN,
        provider=appointment.provider_id,
        location=appointment.location_id,
        start=appointment.start,
    ):
        offer.status = OfferStatus.EXPIRED
        offer.save(update_fields=["status"])
        waitlist_offer_closed(offer)
        offer.entry.status = WaitlistStatus.WAITING
        offer.entry.save(update_fields=["status"])


def _take_slot_again(appointment: Appointment, fields: list[str]) -> None:
    try:
        with transaction.atomic():
            appointment.save(update_fields=fields)
    except IntegrityError as error:
        overlap = OVERLAP_CODES.get(_constraint_of(error))
        if overlap is None:
            raise
        code, detail = overlap
        raise Conflict(f"{detail} The visit cannot be restored.", code=code) from None


def _schedule_order_again(appointment: Appointment, by: Actor, today) -> None:
    order = appointment.procedure_order
    if order is None:
        return
    if order.status != OrderStatus.AUTHORIZED:
        raise Conflict(
            f"Its procedure order is now {order.get_status_display().lower()}; book the "
            "procedure again from the order.",
            code="order_moved",
            order_status=order.status,
        )
    day = appointment.start.astimezone(appointment.location.zone).date()
    order_schedule(order=order, planned_date=day, by=by, today=today)


@written_as_actor
@transaction.atomic
def appointment_undo(*, appointment: Appointment, by: Actor) -> Appointment:
    """Staff undo a no-show or a cancellation the same local day, while the slot is still
    free: the status before it comes back, the procedure order is scheduled again, the
    reminders still ahead are planned again and the undo is logged. 409 otherwise."""
    if not by.is_clinic_staff:
        raise Forbidden("Only the clinic's staff may undo a no-show or a cancellation.")
    lock_times_of(appointment)  # as a booking does, before any row lock: its slot is taken again
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("location", "procedure_order", "appointment_type", "patient")
        .get(pk=appointment.pk)
    )
    now = timezone.now()
    last = undoable_release(appointment, now)
    was = appointment.status
    appointment.status = last.from_status
    appointment.cancel_reason, appointment.cancelled_by = "", None
    appointment.calendar_sequence += 1
    _take_slot_again(
        appointment,
        ["status", "cancel_reason", "cancelled_by", "calendar_sequence", "updated_at"],
    )
    _schedule_order_again(appointment, by, now.astimezone(appointment.location.zone).date())
    _withdraw_offers(appointment)
    appointment_restored(appointment)
    undone = f"Undid the {last.get_to_status_display().lower()}."
    _log(appointment, from_status=was, by=by, at=now, reason=undone, undo=True)
    return appointment


@written_as_actor
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


@written_as_actor
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
            lock_times(
                provider_id=provider.pk,
                room_id=room.pk if room is not None else None,
                patient_id=patient.pk,
                **spans(start, need),
            )
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
            _("This visit is %(status)s; it cannot be changed.")
            % {"status": appointment.get_status_display().lower()},
            code="illegal_transition",
            status=appointment.status,
        )
    refusal = patient_change_refusal(appointment)
    if refusal:
        raise Conflict(refusal, code="too_late_to_change")
