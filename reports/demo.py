"""The demo's visit history as a clinic's previous system would hand it over, so that every
operations report has figures to show. The scheduling demo enters past visits afterwards
(`appointment_backfill`), which knows only how each ended; here each gets the times the
previous system kept: when it was booked, when the patient arrived, went in and left, when a
cancellation was made, whether the patient confirmed; and some of the patients it saw had
waited on the waitlist. Like the notifications demo's message history, these are written
as history rows, once (a second run finds nothing left to add)."""

import random
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from clinic.core.demo import DemoContext
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)

BOOKED_AHEAD_DAYS = [0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45]
CONFIRMED_SHARE = 0.6
WAITLIST_SHARE = 0.15


def seed(ctx: DemoContext) -> None:
    rng = random.Random(20261204)
    today = timezone.localdate()
    # Past visits entered afterwards (booked after they began): a second run finds none.
    past = Appointment.objects.filter(start__date__lt=today, created_at__gt=F("start"))
    visits = list(past.order_by("start").select_related("appointment_type"))
    for visit in visits:
        _give_times(rng, visit)
    ctx.counts["visit histories"] = len(visits)
    ctx.counts["waitlist histories"] = _waitlist(
        rng, [v for v in visits if v.status == "completed"]
    )


def _give_times(rng: random.Random, visit: Appointment) -> None:
    booked = visit.start - timedelta(days=rng.choice(BOOKED_AHEAD_DAYS), hours=rng.randint(1, 8))
    fields: dict[str, datetime | None] = {"created_at": booked}
    if visit.status == AppointmentStatus.COMPLETED:
        arrived = visit.start - timedelta(minutes=rng.randint(-5, 15))
        in_room = max(arrived, visit.start) + timedelta(minutes=rng.choice([2, 5, 8, 12, 20, 35]))
        minutes = visit.appointment_type.duration_minutes + rng.randint(-5, 15)
        fields |= {
            "checked_in_at": arrived,
            "in_room_at": in_room,
            "completed_at": in_room + timedelta(minutes=max(minutes, 5)),
        }
    if visit.status != AppointmentStatus.CANCELLED and rng.random() < CONFIRMED_SHARE:
        fields["confirmed_at"] = visit.start - timedelta(hours=rng.randint(20, 70))
    if visit.status == AppointmentStatus.CANCELLED:
        hours_before = rng.choice([2, 5, 12, 30, 48, 72, 120])
        AppointmentStatusChange.objects.create(
            appointment=visit,
            from_status=AppointmentStatus.BOOKED,
            to_status=AppointmentStatus.CANCELLED,
            at=max(visit.start - timedelta(hours=hours_before), booked),
            channel="desk",
            reason="Demo history",
        )
    Appointment.objects.filter(pk=visit.pk).update(**fields)


def _waitlist(rng: random.Random, completed: list[Appointment]) -> int:
    """Some patients seen had waited for an earlier slot and took one offered; a few more
    waited and gave up."""
    made = 0
    for visit in completed:
        if rng.random() >= WAITLIST_SHARE:
            continue
        visit.refresh_from_db(fields=["created_at"])
        joined = visit.created_at - timedelta(hours=rng.randint(4, 96))
        entry = WaitlistEntry.objects.create(
            patient=visit.patient,
            appointment_type=visit.appointment_type,
            earliest=joined.date(),
            latest=visit.start.date() + timedelta(days=7),
            status=WaitlistStatus.BOOKED,
        )
        WaitlistOffer.objects.create(
            entry=entry,
            provider=visit.provider,
            location=visit.location,
            room=visit.room,
            start=visit.start,
            expires_at=visit.created_at + timedelta(hours=4),
            status=OfferStatus.ACCEPTED,
            appointment=visit,
        )
        gave_up = WaitlistEntry.objects.create(
            patient=visit.patient,
            appointment_type=visit.appointment_type,
            earliest=joined.date(),
            latest=joined.date() + timedelta(days=10),
            status=WaitlistStatus.WITHDRAWN,
        )
        for entry_row in (entry, gave_up):
            WaitlistEntry.objects.filter(pk=entry_row.pk).update(created_at=joined)
        made += 2
    return made
