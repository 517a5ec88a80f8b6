"""The appointments API: booking, conflicts with alternatives, DST input, roles."""

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.users.actor import Actor
from scheduling.models import Appointment, AppointmentStatus, WorkingHours
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")


def next_weekday(weekday: int, weeks_ahead: int = 1) -> date:
    today = datetime.now(CHICAGO).date()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)


@pytest.fixture
def site(db):
    location = LocationFactory(time_zone="America/Chicago")
    doctor = ProviderFactory(locations=[location])
    room = RoomFactory(location=location)
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=doctor,
            location=location,
            weekday=weekday,
            start_time=time(8),
            end_time=time(12),
        )
    kind = AppointmentTypeFactory(patient_bookable=True, min_notice_hours=2, max_horizon_days=120)
    return {"location": location, "doctor": doctor, "room": room, "type": kind}


def body(site, patient, start: str, **extra) -> dict:
    return {
        "patient": str(patient.id),
        "appointment_type": site["type"].code,
        "provider": str(site["doctor"].id),
        "location": str(site["location"].id),
        "room": str(site["room"].id),
        "start": start,
        **extra,
    }


def local(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute)).isoformat()  # no offset: the site's zone


def test_front_desk_books_and_a_lost_race_gets_three_alternatives(
    api_as, front_desk_user, site, other_patient, own_patient
):
    monday = next_weekday(0)
    client = api_as(front_desk_user)
    first = client.post("/api/v1/appointments/", body(site, other_patient, local(monday, 9)))
    assert first.status_code == 201, first.json()
    booked_at = datetime.fromisoformat(first.json()["start"])
    assert booked_at == datetime.combine(monday, time(9)).replace(tzinfo=CHICAGO), (
        "read in the site's zone"
    )
    lost = client.post("/api/v1/appointments/", body(site, own_patient, local(monday, 9)))
    assert lost.status_code == 409
    answer = lost.json()
    assert answer["code"] == "slot_taken"
    assert len(answer["alternatives"]) == 3
    nine = datetime.combine(monday, time(9)).replace(tzinfo=CHICAGO)
    offered = [datetime.fromisoformat(a["start"]) for a in answer["alternatives"]]
    assert all(abs(o - nine) <= timedelta(hours=1) for o in offered)
    retaken = client.post(
        "/api/v1/appointments/", body(site, own_patient, answer["alternatives"][0]["start"])
    )
    assert retaken.status_code == 201


def test_a_retried_post_with_the_same_key_makes_one_appointment(
    api_as, front_desk_user, site, other_patient
):
    client = api_as(front_desk_user)
    request = body(site, other_patient, local(next_weekday(1), 10), idempotency_key="abc-123")
    first = client.post("/api/v1/appointments/", request)
    again = client.post("/api/v1/appointments/", request)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Appointment.objects.count() == 1


def test_a_local_time_the_clocks_skip_is_a_clear_400(api_as, front_desk_user, site, other_patient):
    WorkingHours.objects.create(
        provider=site["doctor"],
        location=site["location"],
        weekday=6,
        start_time=time(0),
        end_time=time(6),
    )
    response = api_as(front_desk_user).post(
        "/api/v1/appointments/", body(site, other_patient, "2030-03-10T02:30:00")
    )
    assert response.status_code == 400
    message = response.json()["fields"]["start"][0]
    assert "does not exist in America/Chicago" in message
    assert not Appointment.objects.exists()


def test_a_repeated_local_time_means_its_first_occurrence(
    api_as, front_desk_user, site, other_patient
):
    WorkingHours.objects.create(  # a night session, so 1:30 is an offered time
        provider=site["doctor"],
        location=site["location"],
        weekday=6,
        start_time=time(0),
        end_time=time(6),
    )
    response = api_as(front_desk_user).post(
        "/api/v1/appointments/", body(site, other_patient, "2030-11-03T01:30:00")
    )
    assert response.status_code == 201, response.json()
    stored = Appointment.objects.get().start
    assert stored == datetime(2030, 11, 3, 6, 30, tzinfo=ZoneInfo("UTC")), (
        "01:30 CDT, before the clocks go back"
    )


def test_a_patient_books_only_offered_self_bookable_slots_for_themself(
    api_as, patient_user, own_patient, other_patient, site
):
    client = api_as(patient_user)
    monday = next_weekday(0)
    slots = client.get(
        "/api/v1/availability/",
        {"appointment_type": site["type"].code, "start": str(monday), "end": str(monday)},
    ).json()
    assert slots and slots[0]["start"]
    booked = client.post("/api/v1/appointments/", body(site, other_patient, slots[0]["start"]))
    assert booked.status_code == 201
    assert Appointment.objects.get().patient == own_patient, "a patient always books for themself"
    assert set(booked.json()) == {
        "id",
        "appointment_type",
        "provider",
        "location",
        "start",
        "end",
        "status",
    }
    off_grid = client.post("/api/v1/appointments/", body(site, other_patient, local(monday, 9, 7)))
    assert off_grid.status_code == 400 and "start" in off_grid.json()["fields"]
    site["type"].patient_bookable = False
    site["type"].save()
    refused = client.post("/api/v1/appointments/", body(site, other_patient, slots[5]["start"]))
    assert refused.status_code == 400 and "appointment_type" in refused.json()["fields"]


def test_patients_see_and_cancel_only_their_own(
    api_as, patient_user, front_desk_user, own_patient, other_patient, site
):
    desk = api_as(front_desk_user)
    mine = desk.post(
        "/api/v1/appointments/", body(site, own_patient, local(next_weekday(2), 9))
    ).json()
    theirs = desk.post(
        "/api/v1/appointments/", body(site, other_patient, local(next_weekday(2), 10))
    ).json()
    client = api_as(patient_user)
    listed = client.get("/api/v1/appointments/").json()
    assert [a["id"] for a in listed["results"]] == [mine["id"]]
    assert client.get(f"/api/v1/appointments/{theirs['id']}/").status_code == 404
    assert (
        client.post(f"/api/v1/appointments/{theirs['id']}/cancel/", {"reason": "x"}).status_code
        == 404
    )
    assert client.post(f"/api/v1/appointments/{mine['id']}/check-in/").status_code == 403
    cancelled = client.post(
        f"/api/v1/appointments/{mine['id']}/cancel/", {"reason": "Feeling better"}
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_state_moves_and_illegal_ones(api_as, front_desk_user, site, other_patient, clock):
    client = api_as(front_desk_user)
    appointment = client.post(
        "/api/v1/appointments/", body(site, other_patient, local(next_weekday(3), 9))
    ).json()
    base = f"/api/v1/appointments/{appointment['id']}/"
    assert client.post(base + "complete/").status_code == 409
    clock.move_to(datetime.fromisoformat(appointment["start"]) - timedelta(minutes=10))
    for action, state in (
        ("check-in/", "checked_in"),
        ("in-room/", "in_room"),
        ("complete/", "completed"),
    ):
        response = client.post(base + action)
        assert response.status_code == 200 and response.json()["status"] == state
    illegal = client.post(base + "cancel/", {"reason": "too late"})
    assert illegal.status_code == 409 and illegal.json()["code"] == "illegal_transition"


def test_rescheduling_keeps_the_old_slot_when_the_new_one_fails(
    api_as, front_desk_user, site, other_patient, own_patient
):
    client = api_as(front_desk_user)
    day = next_weekday(4)
    mine = client.post("/api/v1/appointments/", body(site, own_patient, local(day, 9))).json()
    client.post("/api/v1/appointments/", body(site, other_patient, local(day, 11)))
    refused = client.post(
        f"/api/v1/appointments/{mine['id']}/reschedule/", {"start": local(day, 11)}
    )
    assert refused.status_code == 409
    kept = Appointment.objects.get(pk=mine["id"])
    assert kept.status == AppointmentStatus.BOOKED and kept.start.astimezone(CHICAGO).hour == 9
    moved = client.post(f"/api/v1/appointments/{mine['id']}/reschedule/", {"start": local(day, 10)})
    assert moved.status_code == 200
    kept.refresh_from_db()
    assert kept.status == AppointmentStatus.CANCELLED and kept.cancel_reason == "Rescheduled"
    assert datetime.fromisoformat(moved.json()["start"]).astimezone(CHICAGO).hour == 10


def test_the_clinic_lists(api_as, front_desk_user, patient_user, site):
    desk = api_as(front_desk_user)
    assert desk.get("/api/v1/locations/").json()["count"] == 1
    assert (
        desk.get("/api/v1/providers/", {"location": str(site["location"].id)}).json()["count"] == 1
    )
    hidden = AppointmentTypeFactory(
        code="procedure", name="Procedure", kind="procedure", patient_bookable=False
    )
    assert {t["code"] for t in desk.get("/api/v1/appointment-types/").json()["results"]} == {
        "follow_up",
        hidden.code,
    }
    patient_types = api_as(patient_user).get("/api/v1/appointment-types/").json()["results"]
    assert [t["code"] for t in patient_types] == ["follow_up"]
    day = str(next_weekday(0))
    assert (
        api_as(patient_user)
        .get("/api/v1/availability/", {"appointment_type": "procedure", "start": day, "end": day})
        .status_code
        == 403
    )
    bad = desk.get(
        "/api/v1/availability/",
        {"appointment_type": "follow_up", "start": day, "end": "2000-01-01"},
    )
    assert bad.status_code == 400 and "end" in bad.json()["fields"]


def test_the_day_filter_reads_the_sites_local_day_and_refuses_bad_input(
    api_as, front_desk_user, site, other_patient
):
    client = api_as(front_desk_user)
    day = next_weekday(1)
    client.post("/api/v1/appointments/", body(site, other_patient, local(day, 11, 30)))
    listed = client.get(
        "/api/v1/appointments/", {"date": str(day), "location": str(site["location"].id)}
    )
    assert listed.json()["count"] == 1
    other_day = client.get(
        "/api/v1/appointments/",
        {"date": str(day + timedelta(days=1)), "location": str(site["location"].id)},
    )
    assert other_day.json()["count"] == 0
    bad = client.get(
        "/api/v1/appointments/", {"date": "tomorrow", "location": str(site["location"].id)}
    )
    assert bad.status_code == 400 and "date" in bad.json()["fields"]
    assert client.get("/api/v1/appointments/", {"date": str(day)}).status_code == 400


def test_staff_get_alternatives_inside_the_patients_notice_period(
    clock, api_as, front_desk_user, other_patient, own_patient
):
    location = LocationFactory(time_zone="America/Chicago")
    doctor = ProviderFactory(locations=[location])
    room = RoomFactory(location=location)
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=doctor,
            location=location,
            weekday=weekday,
            start_time=time(0),
            end_time=time(23, 45),
        )
    kind = AppointmentTypeFactory(code="urgent_look", name="Quick look", min_notice_hours=48)
    clock.move_to(clock.day_at(1, time(9), CHICAGO))  # three hours on: the same day's session
    soon = clock.now(CHICAGO).replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
    request = {
        "appointment_type": kind.code,
        "provider": str(doctor.id),
        "location": str(location.id),
        "room": str(room.id),
        "start": soon.isoformat(),
    }
    client = api_as(front_desk_user)
    assert (
        client.post(
            "/api/v1/appointments/", request | {"patient": str(other_patient.id)}
        ).status_code
        == 201
    )
    lost = client.post("/api/v1/appointments/", request | {"patient": str(own_patient.id)})
    assert lost.status_code == 409
    offered = [datetime.fromisoformat(a["start"]) for a in lost.json()["alternatives"]]
    assert len(offered) == 3 and all(o - soon < timedelta(hours=48) for o in offered)


def test_an_illegal_cancel_is_a_409_even_without_a_reason(
    api_as, front_desk_user, site, other_patient, clock
):
    client = api_as(front_desk_user)
    appointment = client.post(
        "/api/v1/appointments/", body(site, other_patient, local(next_weekday(3), 10))
    ).json()
    base = f"/api/v1/appointments/{appointment['id']}/"
    clock.move_to(datetime.fromisoformat(appointment["start"]) + timedelta(minutes=15))
    assert client.post(base + "no-show/").status_code == 200
    response = client.post(base + "cancel/", {"reason": "Called in"})
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    from clinic.core.errors import Conflict
    from scheduling.services import appointment_move

    with pytest.raises(Conflict) as caught:
        appointment_move(
            appointment=Appointment.objects.get(pk=appointment["id"]),
            to="cancelled",
            by=Actor.desk(front_desk_user),
        )
    assert caught.value.code == "illegal_transition", "not a 400 for the missing reason"


def test_ids_and_codes_that_name_nothing_are_refused_on_their_fields(
    api_as, front_desk_user, site, other_patient
):
    """The booking reads the rows it names in one statement (clinic/core/preload.py); what
    it does not find is refused as DRF's related fields refuse it, field by field."""
    AppointmentTypeFactory(code="retired", is_active=False)
    missing = uuid.uuid4()
    request = body(
        site,
        other_patient,
        local(next_weekday(0), 9),
        provider=str(missing),
        appointment_type="retired",
        room="not-an-id",
        location=7,
    )
    answer = api_as(front_desk_user).post("/api/v1/appointments/", request, format="json")
    assert answer.status_code == 400
    fields = answer.json()["fields"]
    assert fields["provider"] == [f'Invalid pk "{missing}" - object does not exist.']
    assert fields["appointment_type"] == ["Object with code=retired does not exist."]
    assert set(fields) == {"provider", "appointment_type", "room", "location"}
    assert not Appointment.objects.exists()
