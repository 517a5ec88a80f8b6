"""The waitlist: a freed slot goes to the first matching waiting patient, held for a set
time. The patient is told by an outbox message (`waitlist_offer`) with a link to accept."""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.actor import Actor
from patients.models import Patient
from sites.models import Location, Provider

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
    entry.status = WaitlistStatus.OFFERED
    entry.save(update_fields=["status"])
    hours = appointment_type.waitlist_offer_hours
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
