"""Each role's access to each scheduling endpoint: staff work with every appointment, a
patient only with their own (404 for anyone else's), anonymous callers get 401."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.users.actor import Actor
from scheduling.models import WorkingHours
from scheduling.services import appointment_book
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
STAFF = ["front_desk_user", "clinician_user", "manager_user"]


@pytest.fixture
def theirs(front_desk_user, other_patient):
    location = LocationFactory(time_zone="America/Chicago")
    doctor = ProviderFactory(locations=[location])
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=doctor,
            location=location,
            weekday=weekday,
            start_time=time(8),
            end_time=time(12),
        )
    day = datetime.now(CHICAGO).date() + timedelta(days=10)
    return appointment_book(
        patient=other_patient,
        appointment_type=AppointmentTypeFactory(patient_bookable=True),
        provider=doctor,
        location=location,
        room=RoomFactory(location=location),
        start=datetime.combine(day, time(9)).replace(tzinfo=CHICAGO),
        by=Actor.desk(front_desk_user),
    )


def reads(appointment) -> list[str]:
    base = f"/api/v1/appointments/{appointment.id}/"
    return [
        "/api/v1/locations/",
        "/api/v1/providers/",
        "/api/v1/appointment-types/",
        "/api/v1/appointments/",
        base,
        base + "calendar.ics",
    ]


@pytest.mark.parametrize("role", STAFF)
def test_staff_read_everything(api_as, request, role, theirs):
    client = api_as(request.getfixturevalue(role))
    for url in reads(theirs):
        assert client.get(url).status_code == 200, url
    listed = client.get("/api/v1/appointments/").json()["results"]
    assert [a["id"] for a in listed] == [str(theirs.id)]
    assert "patient" in listed[0], "staff see who the appointment is for"


@pytest.mark.parametrize("role", STAFF)
def test_staff_move_appointments(api_as, request, role, theirs, clock):
    client = api_as(request.getfixturevalue(role))
    clock.move_to(theirs.start - timedelta(minutes=10))  # check-in is on the visit's day
    moved = client.post(f"/api/v1/appointments/{theirs.id}/check-in/")
    assert moved.status_code == 200 and moved.json()["status"] == "checked_in"


def test_a_patient_gets_404_for_someone_elses_appointment(api_as, patient_user, theirs):
    client = api_as(patient_user)
    base = f"/api/v1/appointments/{theirs.id}/"
    for url in (base, base + "calendar.ics"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert (
            "patient" not in response.content.decode().lower()
            or response.json()["code"] == "not_found"
        )
    for action in ("cancel/", "reschedule/"):
        assert (
            client.post(base + action, {"reason": "x", "start": "2030-01-07T09:00:00"}).status_code
            == 404
        )
    assert client.get("/api/v1/appointments/").json()["count"] == 0


def test_a_patient_may_not_run_the_front_desks_moves(
    api_as, patient_user, front_desk_user, own_patient, theirs
):
    mine = appointment_book(
        patient=own_patient,
        appointment_type=theirs.appointment_type,
        provider=theirs.provider,
        location=theirs.location,
        room=theirs.room,
        start=theirs.start + timedelta(hours=1),
        by=Actor.desk(front_desk_user),
    )
    client = api_as(patient_user)
    for action in ("check-in/", "in-room/", "complete/", "no-show/"):
        assert client.post(f"/api/v1/appointments/{mine.id}/{action}").status_code == 403, action


def test_anonymous_callers_get_401(api_client, theirs):
    for url in reads(theirs):
        assert api_client.get(url).status_code == 401, url
    assert api_client.post("/api/v1/appointments/", {}).status_code == 401
