"""The waitlist: a freed slot goes to the first matching waiting patient, held for a set
time. The patient is told by an outbox message (`waitlist_offer`) with a link to accept."""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.audit.writes import written_as_actor
from clinic.core.db import retry_on_contention
from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.users.actor import Actor
from patients.models import Patient
from sites.models import Location, Provider, Room

from ..availability import Slot, free_slots
from ..messages import waitlist_offer_closed, waitlist_offered
from ..models import (
    Appointment,
    AppointmentType,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from .booking import appointment_book


@transaction.atomic
def waitlist_join(
    *,
    patient: Patient,
    appointment_type: AppointmentType,
    earliest: date,
    latest: date,
    by: Actor,
    provider: Provider | None = None,
    location: Location | None = None,
) -> WaitlistEntry:
    if latest < earliest:
        raise ValidationFailed({"latest": ["The last day is before the first."]})
    if latest < timezone.localdate():
        raise ValidationFailed({"latest": ["The window is already over."]})
    return WaitlistEntry.objects.create(
        patient=patient,
        appointment_type=appointment_type,
        provider=provider,
        location=location,
        earliest=earliest,
        latest=latest,
        created_by=by.user,
    )


def offer_freed_slot(appointment: Appointment) -> WaitlistOffer | None:
    """Called in the transaction that cancels `appointment`: the first waiting patient
    its time suits is offered the slot."""
    return _offer_slot(
        appointment_type=appointment.appointment_type,
        provider=appointment.provider,
        location=appointment.location,
        room=appointment.room,
        start=appointment.start,
        not_for=[appointment.patient_id],
    )


def _offer_slot(
    *, appointment_type, provider, location, room, start, not_for
) -> WaitlistOffer | None:
    if start <= timezone.now():
        return None
    day = start.astimezone(location.zone).date()
    entry = (
        WaitlistEntry.objects.select_for_update(skip_locked=True)
        .filter(
            status=WaitlistStatus.WAITING,
            appointment_type=appointment_type,
            earliest__lte=day,
            latest__gte=day,
        )
        .filter(Q(provider__isnull=True) | Q(provider=provider.pk))
        .filter(Q(location__isnull=True) | Q(location=location.pk))
        .exclude(patient__in=not_for)
        .order_by("created_at")
        .first()
    )
    if entry is None:
        return None
    return _make_offer(entry=entry, provider=provider, location=location, room=room, start=start)


def _make_offer(
    *, entry: WaitlistEntry, provider: Provider, location: Location, room: Room | None, start
) -> WaitlistOffer:
    """The one way an offer is made, automatic or by hand: the entry is marked offered,
    the offer held for the kind's hours (never past the slot) and the patient messaged."""
    entry.status = WaitlistStatus.OFFERED
    entry.save(update_fields=["status"])
    hours = entry.appointment_type.waitlist_offer_hours
    offer = WaitlistOffer.objects.create(
        entry=entry,
        provider=provider,
        location=location,
        room=room,
        start=start,
        expires_at=min(timezone.now() + timedelta(hours=hours), start),
    )
    waitlist_offered(offer)
    return offer


def _offer_taken_meanwhile(**_) -> Conflict:
    return Conflict("The offered time was taken meanwhile.", code="slot_taken")


@written_as_actor
@retry_on_contention(exhausted=_offer_taken_meanwhile)
@transaction.atomic
def offer_accept(*, offer: WaitlistOffer, by: Actor) -> Appointment:
    """Book the offered slot for the waiting patient (a 409 if it expired or was taken)."""
    offer = WaitlistOffer.objects.select_for_update().select_related("entry").get(pk=offer.pk)
    if offer.status != OfferStatus.OPEN or offer.expires_at <= timezone.now():
        raise Conflict("This offer has expired.", code="offer_expired")
    entry = offer.entry
    appointment = appointment_book(
        patient=entry.patient,
        appointment_type=entry.appointment_type,
        provider=offer.provider,
        location=offer.location,
        room=offer.room,
        start=offer.start,
        by=by,
        offered_by_clinic=True,
    )
    offer.status, offer.appointment = OfferStatus.ACCEPTED, appointment
    offer.save(update_fields=["status", "appointment"])
    waitlist_offer_closed(offer)
    entry.status = WaitlistStatus.BOOKED
    entry.save(update_fields=["status"])
    return appointment


def offers_expire(*, now: datetime | None = None) -> int:
    """Close offers past their time, put their patients back in line, and offer each slot
    to the next waiting patient (beat runs this). Each offer is locked and checked again
    before it expires: one accepted meanwhile stays accepted and its slot is not offered."""
    now = now or timezone.now()
    expired = 0
    due = WaitlistOffer.objects.filter(status=OfferStatus.OPEN, expires_at__lte=now)
    for offer_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            offer = (
                WaitlistOffer.objects.select_for_update(of=("self",))
                .select_related("entry__appointment_type", "provider", "location", "room")
                .filter(pk=offer_id, status=OfferStatus.OPEN, expires_at__lte=now)
                .first()
            )
            if offer is None:
                continue  # accepted or declined since the list was read
            offer.status = OfferStatus.EXPIRED
            offer.save(update_fields=["status"])
            waitlist_offer_closed(offer)
            entry = offer.entry
            entry.status = WaitlistStatus.WAITING
            entry.save(update_fields=["status"])
            _offer_slot(
                appointment_type=entry.appointment_type,
                provider=offer.provider,
                location=offer.location,
                room=offer.room,
                start=offer.start,
                not_for=[entry.patient_id],
            )
            expired += 1
    return expired


# --- The desk's waitlist page ----------------------------------------------------------------

OPEN_STATUSES = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


def _staff_only(by: Actor) -> None:
    if not by.is_clinic_staff:
        raise Forbidden("Only the clinic's staff manage the waitlist.")


@transaction.atomic
def waitlist_add(
    *,
    patient: Patient,
    appointment_type: AppointmentType,
    earliest: date,
    latest: date,
    by: Actor,
    provider: Provider | None = None,
    location: Location | None = None,
) -> WaitlistEntry:
    """The desk puts a patient on the waitlist; one open entry per patient and kind."""
    _staff_only(by)
    # Lock the patient's row so two desks adding the same patient at once queue here.
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    if WaitlistEntry.objects.filter(
        patient=patient, appointment_type=appointment_type, status__in=OPEN_STATUSES
    ).exists():
        raise Conflict(
            "This patient is already on the waitlist for this kind of visit.",
            code="already_waiting",
        )
    return waitlist_join(
        patient=patient,
        appointment_type=appointment_type,
        earliest=earliest,
        latest=latest,
        by=by,
        provider=provider,
        location=location,
    )


@transaction.atomic
def waitlist_remove(*, entry: WaitlistEntry, by: Actor) -> WaitlistEntry:
    """Take an entry off the waitlist; an open offer of it closes (its message cancelled)."""
    _staff_only(by)
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status not in OPEN_STATUSES:
        raise Conflict("This entry is no longer on the waitlist.", code="entry_closed")
    for offer in WaitlistOffer.objects.select_for_update().filter(
        entry=entry, status=OfferStatus.OPEN
    ):
        offer.status = OfferStatus.EXPIRED
        offer.save(update_fields=["status"])
        waitlist_offer_closed(offer)
    entry.status = WaitlistStatus.WITHDRAWN
    entry.save(update_fields=["status"])
    return entry


@transaction.atomic
def offer_slot_by_hand(
    *,
    entry: WaitlistEntry,
    provider: Provider,
    location: Location,
    start: datetime,
    by: Actor,
    room: Room | None = None,
) -> WaitlistOffer:
    """The desk offers a free slot to a waiting patient, as the automatic path would: only a
    slot availability offers for the entry's kind of visit, within the entry's window."""
    _staff_only(by)
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("appointment_type", "patient")
        .get(pk=entry.pk)
    )
    if entry.status != WaitlistStatus.WAITING:
        raise Conflict(
            "This patient is not waiting: an offer is open or the entry is closed.",
            code="entry_not_waiting",
        )
    day = start.astimezone(location.zone).date()
    if not entry.earliest <= day <= entry.latest:
        raise ValidationFailed({"start": ["The slot is outside the days the patient asked for."]})
    slot = _offered_slot(entry, provider=provider, location=location, room=room, start=start)
    if slot is None:
        raise Conflict("That slot is no longer free.", code="slot_taken")
    return _make_offer(
        entry=entry, provider=provider, location=location, room=slot.room, start=start
    )


def _offered_slot(
    entry: WaitlistEntry,
    *,
    provider: Provider,
    location: Location,
    room: Room | None,
    start: datetime,
) -> Slot | None:
    """The free slot availability offers at `start` (in `room` when one is named)."""
    day = start.astimezone(location.zone).date()
    slots = free_slots(
        appointment_type=entry.appointment_type,
        start_date=day,
        end_date=day,
        provider=provider,
        location=location,
        for_staff=True,
    )
    return next(
        (
            slot
            for slot in slots
            if slot.start == start and (room is None or (slot.room and slot.room.pk == room.pk))
        ),
        None,
    )
