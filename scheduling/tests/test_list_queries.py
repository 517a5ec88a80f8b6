"""Every list of the scheduling API runs the same number of queries for 1 row as for 50."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from patients.models import Patient
from patients.tests.factories import PatientFactory
from scheduling.models import (
    Appointment,
    AppointmentType,
    WaitlistEntry,
    WaitlistOffer,
    WorkingHours,
)
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)

pytestmark = pytest.mark.django_db

ROWS = [1, 50]
CHICAGO = ZoneInfo("America/Chicago")
# A follow-up holds 30 minutes (20 and 10 of buffer) and may start every 15 minutes.
FOLLOW_UP_BLOCK, SLOT_STEP = timedelta(minutes=30), timedelta(minutes=15)


def a_monday_weeks_ahead() -> date:
    """A Monday past the notice period and well inside the booking horizon (never a DST day)."""
    today = timezone.localdate()
    return today + timedelta(days=21 - today.weekday())


def appointments(count: int, clinic: dict, patient: Patient | None = None) -> None:
    """`count` back-to-back 20-minute visits in the clinic's room on one local day (up to 54),
    each for a new patient unless one is given."""
    first = datetime.combine(a_monday_weeks_ahead(), time(6), tzinfo=CHICAGO)
    visit = timedelta(minutes=20)
    for n in range(count):
        start = first + n * visit
        Appointment.objects.create(
            patient=patient or PatientFactory(),
            appointment_type=clinic["type"],
            provider=clinic["provider"],
            location=clinic["location"],
            room=clinic["room"],
            start=start,
            end=start + visit,
            block_start=start,
            block_end=start + visit,
        )


def waitlist(count: int, clinic: dict, patient: Patient | None = None) -> None:
    """`count` waiting patients (or one patient waiting `count` times), each offered a slot."""
    day = a_monday_weeks_ahead()
    for _ in range(count):
        entry = WaitlistEntry.objects.create(
            patient=patient or PatientFactory(),
            appointment_type=clinic["type"],
            earliest=day,
            latest=day + timedelta(days=14),
        )
        WaitlistOffer.objects.create(
            entry=entry,
            provider=clinic["provider"],
            location=clinic["location"],
            room=clinic["room"],
            start=datetime.combine(day, time(9), tzinfo=CHICAGO),
            expires_at=timezone.now() + timedelta(hours=4),
        )


@pytest.mark.parametrize("rows", ROWS)
def test_locations(api_as, patient_user, django_assert_num_queries, rows):
    LocationFactory.create_batch(rows)
    client = api_as(patient_user)
    with django_assert_num_queries(2):  # count, page
        response = client.get("/api/v1/locations/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_providers(api_as, patient_user, django_assert_num_queries, rows):
    location = LocationFactory()
    ProviderFactory.create_batch(rows, locations=[location, LocationFactory()])
    client = api_as(patient_user)
    with django_assert_num_queries(3):  # count, page, their locations
        response = client.get("/api/v1/providers/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("role", ["front_desk_user", "patient_user"])
def test_appointment_types(api_as, request, django_assert_num_queries, role, rows):
    AppointmentType.objects.all().delete()
    for n in range(rows):
        AppointmentTypeFactory(code=f"kind_{n}", name=f"Kind {n}", patient_bookable=True)
    client = api_as(request.getfixturevalue(role))
    with django_assert_num_queries(3):  # role, count, page
        response = client.get("/api/v1/appointment-types/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_availability(api_as, patient_user, django_assert_num_queries, rows):
    """Rows are free slots: one session just long enough for `rows` of them."""
    location = LocationFactory(time_zone="America/Chicago")
    provider = ProviderFactory(locations=[location])
    RoomFactory(location=location)
    kind = AppointmentTypeFactory(patient_bookable=True)
    day = a_monday_weeks_ahead()
    session_start = datetime.combine(day, time(6))
    session_end = session_start + FOLLOW_UP_BLOCK + (rows - 1) * SLOT_STEP
    WorkingHours.objects.create(
        provider=provider,
        location=location,
        weekday=day.weekday(),
        start_time=session_start.time(),
        end_time=session_end.time(),
    )
    client = api_as(patient_user)
    query = {"appointment_type": kind.code, "start": str(day), "end": str(day)}
    # role, the kind of visit, then the slots' own: locations, providers, their locations,
    # opening hours, working hours, exceptions, rooms, appointments
    with django_assert_num_queries(10):
        response = client.get("/api/v1/availability/", query)
    assert len(response.json()) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_appointments_for_the_front_desk(
    api_as, front_desk_user, clinic, django_assert_num_queries, rows
):
    appointments(rows, clinic)
    client = api_as(front_desk_user)
    with django_assert_num_queries(
        4
    ):  # role, count, page with its patient, type, people, place, the audit row
        response = client.get("/api/v1/appointments/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_appointments_for_their_patient(
    api_as, patient_user, own_patient, clinic, django_assert_num_queries, rows
):
    appointments(rows, clinic, patient=own_patient)
    client = api_as(patient_user)
    with django_assert_num_queries(
        4
    ):  # role, count, page with its type, provider and place, the audit row
        response = client.get("/api/v1/appointments/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_appointments_of_a_local_day(
    api_as, front_desk_user, clinic, django_assert_num_queries, rows
):
    appointments(rows, clinic)
    client = api_as(front_desk_user)
    query = {"location": str(clinic["location"].pk), "date": str(a_monday_weeks_ahead())}
    with django_assert_num_queries(5):  # role, the location, count, page, the audit row
        response = client.get("/api/v1/appointments/", query)
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_waitlist_for_the_front_desk(
    api_as, front_desk_user, clinic, django_assert_num_queries, rows
):
    waitlist(rows, clinic)
    client = api_as(front_desk_user)
    with django_assert_num_queries(
        5
    ):  # role, count, page with the kind of visit, offers, the audit row
        response = client.get("/api/v1/waitlist/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_waitlist_for_their_patient(
    api_as, patient_user, own_patient, clinic, django_assert_num_queries, rows
):
    waitlist(rows, clinic, patient=own_patient)
    waitlist(1, clinic)  # someone else's, out of sight
    client = api_as(patient_user)
    with django_assert_num_queries(
        5
    ):  # role, count, page with the kind of visit, offers, the audit row
        response = client.get("/api/v1/waitlist/")
    assert response.json()["count"] == rows
