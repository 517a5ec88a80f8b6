"""The front desk's day board and booking page."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory
from scheduling import services
from scheduling.forms import slot_value
from scheduling.models import Appointment, AppointmentStatus, WorkingHours
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)

pytestmark = pytest.mark.django_db
DENVER = ZoneInfo("America/Denver")


def build_sites(count: int):
    for index in range(count):
        location = LocationFactory(time_zone="America/Denver" if index % 2 else "America/New_York")
        RoomFactory.create_batch(3, location=location)
        ProviderFactory.create_batch(2, locations=[location])


def next_weekday(weekday: int, zone=DENVER) -> date:
    today = datetime.now(zone).date()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7)


@pytest.fixture
def site(db):
    location = LocationFactory(time_zone="America/Denver", name="Denver Spine")
    doctors = [
        ProviderFactory(locations=[location], first_name="Ana", last_name="Alpha"),
        ProviderFactory(locations=[location], first_name="Ben", last_name="Beta"),
    ]
    rooms = [RoomFactory(location=location, name=f"Exam {n}") for n in (1, 2)]
    for doctor in doctors:
        for weekday in range(7):
            WorkingHours.objects.create(
                provider=doctor,
                location=location,
                weekday=weekday,
                start_time=time(7),
                end_time=time(19),
            )
    kind = AppointmentTypeFactory(patient_bookable=True, color="#aa3377", min_notice_hours=2)
    return {"location": location, "doctors": doctors, "rooms": rooms, "type": kind}


def book(site, *, day, hour, minute=0, doctor=0, room=0, patient=None, by=None):
    return services.appointment_book(
        patient=patient or PatientFactory(),
        appointment_type=site["type"],
        provider=site["doctors"][doctor],
        location=site["location"],
        room=site["rooms"][room] if room is not None else None,
        start=datetime.combine(day, time(hour, minute)).replace(tzinfo=DENVER),
        by=Actor.desk(by) if by is not None else Actor.system(),
    )


def board(client, site, day, **params):
    return client.get("/desk/", {"location": str(site["location"].pk), "date": str(day), **params})


# --- Showing the board ------------------------------------------------------------------


def window_visits(response) -> dict[str, dict]:
    """The visits of the day's window that comes with the page, by id."""
    events = response.context["initial_window"]["events"]
    return {e["id"]: e for e in events if e.get("extendedProps", {}).get("kind") == "visit"}


def test_board_is_the_calendar_with_the_days_window(client, front_desk_user, site):
    day = next_weekday(1)
    first = book(site, day=day, hour=9, doctor=0, room=0)
    second = book(site, day=day, hour=10, doctor=1, room=1)
    book(site, day=day + timedelta(days=1), hour=9)  # another day: not on this board
    client.sign_in(front_desk_user)
    response = board(client, site, day)
    assert response.status_code == 200
    window = response.context["initial_window"]
    assert [r["title"] for r in window["resources"]] == [d.display_name for d in site["doctors"]]
    shown = window_visits(response)
    assert set(shown) == {str(first.pk), str(second.pk)}
    assert shown[str(first.pk)]["start"] == f"{day}T09:00:00", "the site's wall clock"
    assert shown[str(first.pk)]["resourceIds"] == [str(site["doctors"][0].pk)]
    assert shown[str(first.pk)]["extendedProps"]["color"] == "#aa3377", "the type's colour"
    page = response.content.decode()
    assert 'id="calendar-initial"' in page and first.patient.full_name in page
    assert "vendor/event-calendar/event-calendar.min.js" in page and "js/calendar.js" in page
    assert 'data-events-url="/desk/calendar/events/"' in page
    rooms = board(client, site, day, by="room")
    assert [r["title"] for r in rooms.context["initial_window"]["resources"]] == [
        "Exam 1",
        "Exam 2",
    ]


def test_board_empty_states(client, front_desk_user, site):
    client.sign_in(front_desk_user)
    response = board(client, site, next_weekday(2))
    assert response.status_code == 200
    assert window_visits(response) == {}


def test_board_without_locations_explains_what_to_do(client, front_desk_user):
    client.sign_in(front_desk_user)
    assert "No locations are set up yet" in client.get("/desk/").content.decode()


@pytest.mark.date_sensitive
def test_board_defaults_to_the_first_location_and_today_in_its_zone(clock, client, manager_user):
    build_sites(2)
    client.sign_in(manager_user)
    response = client.get("/desk/")
    assert response.status_code == 200
    first = response.context["location"]
    assert first.name == min(loc.name for loc in response.context["locations"])
    assert response.context["day"] == clock.today(first.zone)
    page = response.content.decode()
    assert first.time_zone in page, "the day is shown in the site's own zone"
    assert all(f'<option value="{loc.pk}"' in page for loc in response.context["locations"])


def test_board_switches_location_and_date(client, clinician_user, site):
    other = LocationFactory(time_zone="America/New_York", name="Raleigh Pain")
    ProviderFactory(locations=[other], first_name="Cy", last_name="Gamma")
    day = next_weekday(3)
    booked = book(site, day=day, hour=11)
    client.sign_in(clinician_user)
    page = board(client, site, day).content.decode()
    assert booked.patient.full_name in page
    assert f"date={day - timedelta(days=1)}" in page and f"date={day + timedelta(days=1)}" in page
    next_day = board(client, site, day + timedelta(days=1)).content.decode()
    assert booked.patient.full_name not in next_day
    elsewhere = client.get("/desk/", {"location": str(other.pk), "date": str(day)})
    assert elsewhere.status_code == 200
    assert "Raleigh Pain" in elsewhere.content.decode()
    assert booked.patient.full_name not in elsewhere.content.decode()
    assert client.get("/desk/", {"location": "not-a-uuid"}).status_code == 404


def test_a_patient_gets_403_and_anonymous_goes_to_login(client, patient_user, site):
    assert client.get("/desk/").status_code == 302
    client.sign_in(patient_user)
    assert client.get("/desk/").status_code == 403
    assert client.get("/desk/book/").status_code == 403


# --- Moving appointments ----------------------------------------------------------------


def test_check_in_then_cancel_through_the_page(client, front_desk_user, site, clock):
    day = next_weekday(1)
    appointment = book(site, day=day, hour=9)
    clock.move_to(appointment.start - timedelta(minutes=10))  # check-in is on the visit's day
    client.sign_in(front_desk_user)
    url = f"/desk/appointments/{appointment.pk}/move/"
    response = client.post(url, {"to": "checked_in"})
    assert response.status_code == 200
    assert response.json()["status"] == "checked_in"
    assert response.json()["detail"] == f"{appointment.patient.full_name}: checked in."
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    response = client.post(url, {"to": "cancelled", "reason": "Felt unwell"})
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Felt unwell"
    assert appointment.cancelled_by == front_desk_user


def test_cancel_without_reason_is_a_400_and_changes_nothing(client, front_desk_user, site):
    appointment = book(site, day=next_weekday(1), hour=9)
    client.sign_in(front_desk_user)
    response = client.post(
        f"/desk/appointments/{appointment.pk}/move/", {"to": "cancelled", "reason": "  "}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Say why the appointment is cancelled."
    assert response.json()["fields"] == {"reason": ["Say why the appointment is cancelled."]}
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_an_illegal_move_is_a_409(client, front_desk_user, site):
    appointment = book(site, day=next_weekday(1), hour=9)
    client.sign_in(front_desk_user)
    response = client.post(f"/desk/appointments/{appointment.pk}/move/", {"to": "completed"})
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_a_check_in_of_next_weeks_visit_is_a_409_saying_its_day(client, front_desk_user, site):
    appointment = book(site, day=next_weekday(1), hour=9)
    client.sign_in(front_desk_user)
    response = client.post(f"/desk/appointments/{appointment.pk}/move/", {"to": "checked_in"})
    assert response.status_code == 409
    body = response.json()
    local = appointment.start.astimezone(DENVER)
    assert body["code"] == "not_today"
    assert body["detail"] == (
        f"This visit is on {local:%a %b} {local.day}, 9:00 AM MT: "
        "it can be checked in only on its day."
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_an_unknown_move_or_visit_is_refused(client, front_desk_user, site):
    appointment = book(site, day=next_weekday(1), hour=9)
    client.sign_in(front_desk_user)
    url = f"/desk/appointments/{appointment.pk}/move/"
    assert client.post(url, {"to": "booked"}).status_code == 400
    assert client.get(url).status_code == 405
    other = "/desk/appointments/00000000-0000-0000-0000-000000000000/move/"
    assert client.post(other, {"to": "checked_in"}).json()["code"] == "not_found"


def test_the_moves_are_for_staff(client, patient_user, site):
    appointment = book(site, day=next_weekday(1), hour=9)
    url = f"/desk/appointments/{appointment.pk}/move/"
    assert client.post(url, {"to": "checked_in"}).status_code == 401
    client.sign_in(patient_user)
    assert client.post(url, {"to": "checked_in"}).status_code == 403
    assert client.post(f"/desk/appointments/{appointment.pk}/undo/").status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_no_shows_are_listed(client, front_desk_user, site, clock):
    day = next_weekday(1)
    appointment = book(site, day=day, hour=9)
    clock.move_to(appointment.start + timedelta(minutes=15))  # a no-show is after the start
    client.sign_in(front_desk_user)
    moved = client.post(f"/desk/appointments/{appointment.pk}/move/", {"to": "no_show"})
    assert moved.status_code == 200 and moved.json()["status"] == "no_show"
    shown = window_visits(board(client, site, day))[str(appointment.pk)]
    assert shown["extendedProps"]["status"] == "no_show" and "visit-released" in shown["classNames"]
    assert shown["extendedProps"]["can_undo"] is True, "undone the same day"


def test_the_calendar_links_the_print_of_the_shown_day(client, front_desk_user, site):
    day = next_weekday(2)
    client.sign_in(front_desk_user)
    page = client.get("/desk/", {"location": str(site["location"].pk), "date": str(day)})
    assert page.status_code == 200
    link = re.search(r'id="print-day" href="([^"]+)"', page.content.decode())
    assert link, "the calendar has a Print the day link"
    assert link.group(1) == (
        f"/desk/print/?location={site['location'].pk}&amp;date={day}&amp;by=provider"
    )
    by_room = client.get(
        "/desk/", {"location": str(site["location"].pk), "date": str(day), "by": "room"}
    )
    assert f"date={day}&amp;by=room" in by_room.content.decode()


# --- Booking ----------------------------------------------------------------------------


def _slot(site, day, hour, minute=0, doctor=0, room=0) -> str:
    start = datetime.combine(day, time(hour, minute)).replace(tzinfo=DENVER).astimezone(UTC)
    return slot_value(site["doctors"][doctor].pk, site["rooms"][room].pk, start)


def test_booking_through_the_page(client, front_desk_user, site):
    patient = PatientFactory(legal_first_name="Zelda", legal_last_name="Quintero")
    day = next_weekday(2)
    client.sign_in(front_desk_user)
    where = {"location": str(site["location"].pk)}
    search = client.post("/desk/book/", {**where, "q": "Quintero", "action": "search"})
    assert search.status_code == 200
    assert f'value="{patient.pk}"' in search.content.decode()
    response = client.post(
        "/desk/book/",
        {
            **where,
            "q": "Quintero",
            "patient": str(patient.pk),
            "appointment_type": str(site["type"].pk),
            "day": str(day),
            "slot": _slot(site, day, 10, 15),
            "action": "book",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    booked = Appointment.objects.get()
    assert booked.patient == patient and booked.booked_by == front_desk_user
    assert booked.start == datetime.combine(day, time(10, 15)).replace(tzinfo=DENVER)


def test_booking_a_slot_taken_meanwhile_is_a_409_with_fresh_offers(client, front_desk_user, site):
    day = next_weekday(2)
    book(site, day=day, hour=10, doctor=0, room=0)
    patient = PatientFactory()
    client.sign_in(front_desk_user)
    data = {
        "location": str(site["location"].pk),
        "patient": str(patient.pk),
        "appointment_type": str(site["type"].pk),
        "provider": str(site["doctors"][0].pk),
        "day": str(day),
        "slot": _slot(site, day, 10),
        "action": "book",
    }
    response = client.post("/desk/book/", data)
    assert response.status_code == 409
    page = response.content.decode()
    assert "The provider is already booked at that time." in page
    nearby = re.search(r"Free nearby: ([^<]+)", page)
    assert nearby and "with Dr. " in nearby.group(1), "the 409's alternatives, named"
    assert nearby.group(1).startswith(f"{day:%a %b} {day.day}, ")
    offered = re.findall(r'name="slot" id="slot-\d+" value="([^"]+)"', page)
    assert offered and _slot(site, day, 10) not in offered
    retaken = client.post("/desk/book/", data | {"slot": offered[0]})
    assert retaken.status_code == 302
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_booking_with_bad_input_is_a_400_with_field_errors(client, front_desk_user, site):
    client.sign_in(front_desk_user)
    past = datetime(2001, 1, 1, 17, tzinfo=UTC)
    response = client.post(
        "/desk/book/",
        {
            "location": str(site["location"].pk),
            "patient": str(PatientFactory().pk),
            "appointment_type": str(site["type"].pk),
            "slot": slot_value(site["doctors"][0].pk, site["rooms"][0].pk, past),
            "action": "book",
        },
    )
    assert response.status_code == 400
    assert "An appointment cannot start in the past." in response.content.decode()
    assert not Appointment.objects.exists()


# --- Query count --------------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 15])
def test_board_query_count_is_fixed(
    client, front_desk_user, django_assert_num_queries, site, count
):
    day = next_weekday(4)
    for index in range(count):
        doctor, slot = index % 2, index // 2
        book(site, day=day, hour=7 + slot // 2, minute=30 * (slot % 2), doctor=doctor, room=doctor)
    client.sign_in(front_desk_user)
    # session, user, the second factor's device, groups (role); locations; providers (the
    # week's picker); the day's window (scheduling.calendar_selectors: 9 with no released
    # visit, see test_calendar_window.py)
    with django_assert_num_queries(16):
        response = board(client, site, day)
    assert response.status_code == 200
    assert len(window_visits(response)) == count
