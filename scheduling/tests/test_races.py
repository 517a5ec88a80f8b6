"""Two check-then-write races, closed: each test runs real threads against PostgreSQL."""

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone

from clinic.core.errors import Conflict
from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    BookingPolicy,
    OfferStatus,
    WaitlistOffer,
    WorkingHours,
)
from scheduling.services import (
    appointment_book,
    appointment_move,
    offer_accept,
    offers_expire,
    waitlist_join,
)
from scheduling.tests.factories import AppointmentTypeFactory, LocationFactory, ProviderFactory
from sites.models import Room, RoomKind
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

DENVER = ZoneInfo("America/Denver")


@pytest.fixture
def site(db):
    location = LocationFactory(time_zone="America/Denver")
    provider = ProviderFactory(locations=[location])
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=provider,
            location=location,
            weekday=weekday,
            start_time="08:00",
            end_time="17:00",
        )
    kind = AppointmentTypeFactory(patient_bookable=True, min_notice_hours=24, max_horizon_days=30)
    room = Room.objects.create(location=location, name="Consult 1", kind=RoomKind.CONSULT)
    return {"location": location, "provider": provider, "type": kind, "room": room}


def in_days(days: int, hour: int) -> datetime:
    day = (timezone.now().astimezone(DENVER) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=DENVER)


def in_threads(*jobs: Callable[[], object]) -> list[object]:
    """Run the jobs at the same moment, each in its own thread and connection; returns what
    each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(index: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = job()
        except Exception as error:  # the outcome under test, kept for the assertions
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a booking never finished"
    return results


def test_two_online_bookings_at_once_cannot_both_pass_the_cap(site, patient_user):
    BookingPolicy.objects.update_or_create(id=1, defaults={"max_future_bookings": 1})
    patient = patient_user.patient

    def book_at(hour: int) -> Callable[[], Appointment]:
        return lambda: appointment_book(
            patient=patient,
            appointment_type=site["type"],
            provider=site["provider"],
            location=site["location"],
            room=site["room"],
            start=in_days(3, hour),
            by=Actor.portal(patient_user),
        )

    results = in_threads(book_at(9), book_at(14))

    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert refused[0].code == "booking_cap"
    upcoming = Appointment.objects.filter(patient=patient, status=AppointmentStatus.BOOKED)
    assert upcoming.count() == 1


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def test_an_offer_accepted_while_offers_expire_stays_accepted(site, front_desk_user):
    desk = Actor.desk(front_desk_user)
    taken = appointment_book(
        patient=PatientFactory(),
        appointment_type=site["type"],
        provider=site["provider"],
        location=site["location"],
        room=site["room"],
        start=in_days(3, 9),
        by=desk,
    )
    day = in_days(3, 9).date()
    for _ in range(2):  # the first in line gets the offer; the second would get it next
        waitlist_join(
            patient=PatientFactory(),
            appointment_type=site["type"],
            earliest=day,
            latest=day,
            by=desk,
        )
    appointment_move(appointment=taken, to=AppointmentStatus.CANCELLED, by=desk, reason="Ill")
    offer = WaitlistOffer.objects.get(status=OfferStatus.OPEN)
    accepted, release = threading.Event(), threading.Event()

    def accept_and_hold() -> None:
        with transaction.atomic():
            offer_accept(offer=offer, by=desk)
            accepted.set()
            release.wait(timeout=60)  # the accept is done but not committed yet

    def expire_when_accepted() -> int:
        accepted.wait(timeout=60)
        return offers_expire(now=offer.expires_at + timedelta(minutes=1))

    def let_go_once_expiry_waits() -> None:
        accepted.wait(timeout=60)
        wait_for(waiting_on_a_lock, timeout=60, what="the expiry to wait for the accept")
        release.set()

    results = in_threads(accept_and_hold, expire_when_accepted, let_go_once_expiry_waits)

    assert not [r for r in results if isinstance(r, Exception)], results
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert results[1] == 0, "nothing expired"
    assert WaitlistOffer.objects.count() == 1, "the slot was not offered again"
