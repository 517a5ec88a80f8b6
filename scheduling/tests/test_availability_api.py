"""GET /api/v1/availability/ answers compact rows; a refused booking names the asked
provider's nearest free times first; a booking kept waiting by a competing one past the
lock timeout is a 503 with Retry-After, never a 500."""

import gzip
import json
import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test import RequestFactory

from clinic.core.errors import Unavailable
from clinic.core.views import server_error
from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory
from scheduling.availability import free_slots
from scheduling.services import appointment_book, nearest_slots
from scheduling.services.booking import lock_times
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
    works_every_day,
)

CHICAGO = ZoneInfo("America/Chicago")


def a_day_ahead(days: int = 10) -> date:
    return datetime.now(CHICAGO).date() + timedelta(days=days)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=CHICAGO)


@pytest.fixture
def site(db):
    location = LocationFactory(time_zone="America/Chicago")
    doctor, other = (ProviderFactory(locations=[location]) for _ in range(2))
    works_every_day(doctor, location, time(8), time(12))
    works_every_day(other, location, time(8), time(12))
    return {
        "location": location,
        "doctor": doctor,
        "other": other,
        "rooms": [RoomFactory(location=location) for _ in range(2)],
        "type": AppointmentTypeFactory(patient_bookable=True, min_notice_hours=0),
    }


def book(site, start: datetime, provider=None):
    return appointment_book(
        patient=PatientFactory(),
        appointment_type=site["type"],
        provider=provider or site["doctor"],
        location=site["location"],
        start=start,
        by=Actor.system(),
        room=site["rooms"][0] if provider is None else site["rooms"][1],
    )


def test_availability_rows_are_the_documented_fields_as_plain_strings(
    api_as, front_desk_user, site
):
    day = a_day_ahead()
    book(site, at(day, 9))
    query = {"appointment_type": site["type"].code, "start": str(day), "end": str(day)}
    rows = api_as(front_desk_user).get("/api/v1/availability/", query).json()
    slots = free_slots(appointment_type=site["type"], start_date=day, end_date=day)
    assert len(rows) == len(slots) > 0
    for row, slot in zip(rows, slots, strict=True):
        assert set(row) == {"start", "end", "provider", "room", "location"}
        assert row["start"].endswith("Z") and row["end"].endswith("Z")
        assert datetime.fromisoformat(row["start"]) == slot.start
        assert datetime.fromisoformat(row["end"]) == slot.end
        assert (row["provider"], row["room"], row["location"]) == (
            str(slot.provider.pk),
            str(slot.room.pk),
            str(slot.location.pk),
        )


def test_a_client_that_accepts_gzip_gets_the_same_rows_gzipped(api_as, front_desk_user, site):
    day = a_day_ahead()
    query = {"appointment_type": site["type"].code, "start": str(day), "end": str(day)}
    client = api_as(front_desk_user)
    plain = client.get("/api/v1/availability/", query)
    zipped = client.get("/api/v1/availability/", query, HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert len(zipped.content) < len(plain.content) / 4
    assert json.loads(gzip.decompress(zipped.content)) == plain.json()


def test_a_refused_booking_names_the_asked_providers_nearest_times_first(
    api_as, front_desk_user, site, other_patient
):
    day = a_day_ahead()
    book(site, at(day, 10))
    taken = {
        "patient": str(other_patient.pk),
        "appointment_type": site["type"].code,
        "provider": str(site["doctor"].pk),
        "location": str(site["location"].pk),
        "start": at(day, 10).isoformat(),
    }
    refused = api_as(front_desk_user).post("/api/v1/appointments/", taken)
    assert refused.status_code == 409 and refused.json()["code"] == "slot_taken"
    alternatives = refused.json()["alternatives"]
    assert [a["provider"] for a in alternatives] == [str(site["doctor"].pk)] * 3
    # 10:00 holds 10:00-10:30 with its buffer, so 9:45 is taken too.
    assert [datetime.fromisoformat(a["start"]) for a in alternatives] == [
        at(day, 9, 30),
        at(day, 10, 30),
        at(day, 9, 15),
    ]


def test_when_the_asked_provider_is_full_the_others_times_fill_in(site):
    day = a_day_ahead()
    site["doctor"].working_hours.all().update(start_time=time(10), end_time=time(10, 30))
    for days in (-1, 0, 1):
        book(site, at(day + timedelta(days=days), 10))
    nearby = nearest_slots(
        appointment_type=site["type"],
        location=site["location"],
        start=at(day, 10),
        provider=site["doctor"],
    )
    assert [n["provider"] for n in nearby] == [str(site["other"].pk)] * 3
    assert datetime.fromisoformat(nearby[0]["start"]) == at(day, 10).astimezone(UTC)


@pytest.mark.django_db(transaction=True)
def test_a_booking_kept_waiting_past_the_lock_timeout_is_a_503(api_as, front_desk_user, site):
    """A competing booking holds the provider's day (its transaction is still open); ours
    waits for it on the advisory lock until PostgreSQL's lock timeout ends the wait."""
    day = a_day_ahead()
    start = at(day, 9)
    holding, release = threading.Event(), threading.Event()

    def compete() -> None:
        try:
            with transaction.atomic():
                lock_times(
                    provider_id=site["doctor"].pk,
                    room_id=None,
                    patient_id=uuid.uuid4(),
                    start=start,
                    end=start + timedelta(minutes=20),
                    block_start=start,
                    block_end=start + timedelta(minutes=30),
                )
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    competitor = threading.Thread(target=compete)
    competitor.start()
    try:
        assert holding.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        body = {
            "patient": str(PatientFactory().pk),
            "appointment_type": site["type"].code,
            "provider": str(site["doctor"].pk),
            "location": str(site["location"].pk),
            "start": start.isoformat(),
        }
        answer = api_as(front_desk_user).post("/api/v1/appointments/", body)
    finally:
        release.set()
        competitor.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert answer.status_code == 503, answer.content
    assert answer.json()["code"] == "busy" and answer["Retry-After"] == "5"


def test_a_page_refused_for_the_moment_is_a_503_too(db):
    request = RequestFactory().post("/desk/book/")
    try:
        raise Unavailable()
    except Unavailable:
        answer = server_error(request)
    assert answer.status_code == 503 and answer["Retry-After"] == "5"
