from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.utils import timezone

from clinic.users.actor import Actor
from scheduling import ics
from scheduling.models import AppointmentStatus, WorkingHours
from scheduling.services import appointment_book, appointment_move, appointment_reschedule
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def booked(front_desk_user, own_patient):
    location = LocationFactory(time_zone="America/Chicago", phone="+13125550100", city="Chicago")
    doctor = ProviderFactory(locations=[location], first_name="Maya", last_name="Okafor")
    room = RoomFactory(location=location, name="Consult 2")
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=doctor,
            location=location,
            weekday=weekday,
            start_time=time(8),
            end_time=time(12),
        )
    own_patient.legal_first_name, own_patient.legal_last_name = "Rosa", "Quintero"
    own_patient.save()
    start = datetime.combine(timezone.localdate() + timedelta(days=3), time(9)).replace(
        tzinfo=CHICAGO
    )
    appointment = appointment_book(
        patient=own_patient,
        appointment_type=AppointmentTypeFactory(name="Follow-up"),
        provider=doctor,
        location=location,
        room=room,
        start=start,
        by=Actor.desk(front_desk_user),
    )
    return appointment


def test_the_provider_feed_has_initials_and_type_but_no_names(client, booked):
    response = client.get(f"/calendars/providers/{booked.provider.calendar_token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "SUMMARY:R.Q. · Follow-up" in text
    assert "Rosa" not in text and "Quintero" not in text and booked.patient.mrn not in text
    start = booked.start.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start}" in text


def feed_events(client, provider) -> list[icalendar.Event]:
    response = client.get(f"/calendars/providers/{provider.calendar_token}.ics")
    assert response.status_code == 200
    return list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def test_a_cancelled_visit_stays_in_the_feed_as_cancelled_under_its_uid(
    client, booked, front_desk_user
):
    (before,) = feed_events(client, booked.provider)
    appointment_move(
        appointment=booked,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Ill",
    )
    (after,) = feed_events(client, booked.provider)
    assert str(after["UID"]) == str(before["UID"])
    assert str(after["STATUS"]) == "CANCELLED"
    assert after["SEQUENCE"] == before["SEQUENCE"] + 1
    assert client.get("/calendars/providers/not-the-token.ics").status_code == 404


def test_a_moved_visit_is_one_event_in_the_feed_and_in_the_patients_file(
    client, api_as, patient_user, booked, front_desk_user
):
    (before,) = feed_events(client, booked.provider)
    moved = appointment_reschedule(
        appointment=booked, start=booked.start + timedelta(hours=1), by=Actor.desk(front_desk_user)
    )
    (after,) = feed_events(client, booked.provider)
    assert str(after["UID"]) == str(before["UID"]) and after["SEQUENCE"] == 1
    assert str(after["STATUS"]) == "CONFIRMED" and after.decoded("DTSTART") == moved.start
    download = api_as(patient_user).get(
        f"/api/v1/appointments/{moved.id}/calendar.ics", HTTP_ACCEPT="text/calendar"
    )
    (event,) = icalendar.Calendar.from_ical(download.content).walk("VEVENT")
    assert str(event["UID"]) == str(before["UID"]) and event["SEQUENCE"] == 1


def test_a_visit_moved_to_another_provider_leaves_the_first_feed_as_cancelled(
    client, booked, front_desk_user
):
    other = ProviderFactory(locations=[booked.location])
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=other,
            location=booked.location,
            weekday=weekday,
            start_time=time(8),
            end_time=time(12),
        )
    appointment_reschedule(
        appointment=booked, start=booked.start, provider=other, by=Actor.desk(front_desk_user)
    )
    (left,) = feed_events(client, booked.provider)
    (arrived,) = feed_events(client, other)
    assert str(left["UID"]) == str(arrived["UID"])
    assert str(left["STATUS"]) == "CANCELLED" and str(arrived["STATUS"]) == "CONFIRMED"
    assert left["SEQUENCE"] == arrived["SEQUENCE"] == 1


def test_each_provider_has_a_different_secret():
    assert ProviderFactory().calendar_token != ProviderFactory().calendar_token


def test_a_patient_downloads_their_own_appointment(
    api_as, patient_user, other_patient, booked, front_desk_user
):
    client = api_as(patient_user)
    response = client.get(
        f"/api/v1/appointments/{booked.id}/calendar.ics", HTTP_ACCEPT="text/calendar"
    )
    assert response.status_code == 200
    text = response.content.decode().replace("\r\n ", "")  # unfold long lines
    assert "SUMMARY:Appointment at" in text
    assert "Dr. Maya Okafor" in text and "call (312) 555-0100" in text
    assert "Follow-up" not in text, "the kind of visit stays out of synced calendars"
    theirs = appointment_book(
        patient=other_patient,
        appointment_type=booked.appointment_type,
        provider=booked.provider,
        location=booked.location,
        room=booked.room,
        start=booked.start + timedelta(hours=1),
        by=Actor.desk(front_desk_user),
    )
    assert client.get(f"/api/v1/appointments/{theirs.id}/calendar.ics").status_code == 404


def test_lines_are_escaped_and_folded():
    event = ics.Event(
        uid="x@clinic",
        start=datetime(2030, 1, 1, 9, tzinfo=CHICAGO),
        end=datetime(2030, 1, 1, 10, tzinfo=CHICAGO),
        summary="Comma, semicolon; back\\slash",
        description="é" * 80,
    )
    text = ics.calendar([event], name="Test", stamp=datetime(2030, 1, 1, tzinfo=CHICAGO))
    assert "SUMMARY:Comma\\, semicolon\\; back\\\\slash" in text
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75
    (parsed,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(parsed["DESCRIPTION"]) == "é" * 80, "folding splits no character"


def test_renewing_the_link_revokes_the_old_one(client, make_user, booked):
    from clinic.users.roles import Role

    old = booked.provider.calendar_token
    client.sign_in(make_user("root", Role.MANAGER, is_superuser=True))
    response = client.post(
        "/admin/sites/provider/",
        {"action": "renew_calendar_link", "_selected_action": [str(booked.provider.pk)]},
    )
    assert response.status_code == 302
    booked.provider.refresh_from_db()
    assert booked.provider.calendar_token != old
    assert client.get(f"/calendars/providers/{old}.ics").status_code == 404
