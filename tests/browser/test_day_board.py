"""The front desk's day board in Chromium: the day's appointments in their columns, and a
check-in done from the keyboard. Screenshots at desktop (1366 px) and phone size."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.users.actor import Actor
from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.tests.factories import PatientFactory
from scheduling.models import Appointment, AppointmentStatus, WorkingHours
from scheduling.services import appointment_book
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def busy_day(make_user):
    make_user("desk", Role.FRONT_DESK, first_name="Jordan")
    location = LocationFactory(time_zone="America/Chicago", name="Lakeside Pain Center")
    doctor = ProviderFactory(locations=[location], first_name="Maya", last_name="Okafor")
    room = RoomFactory(location=location, name="Consult 1")
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=doctor,
            location=location,
            weekday=weekday,
            start_time=time(8),
            end_time=time(12),
        )
    # Check-in is on the visit's own day: both visits are later today in Chicago (the browser
    # keeps the real clock), booked by the system so the time need not be an offered slot.
    now = datetime.now(CHICAGO)
    rosa = (now + timedelta(minutes=10)).replace(second=0, microsecond=0)
    james = rosa + timedelta(minutes=40)
    if james.date() != now.date():
        pytest.skip("less than an hour left of today in Chicago for two visits today")
    kind = AppointmentTypeFactory(name="Follow-up", color="#2e7d32")
    for start, first in ((rosa, "Rosa"), (james, "James")):
        appointment_book(
            patient=PatientFactory(legal_first_name=first, legal_last_name="Tester"),
            appointment_type=kind,
            provider=doctor,
            location=location,
            room=room,
            start=start,
            by=Actor.system(),
        )
    return {"location": location, "day": now.date(), "rosa_at": f"{rosa:%-I:%M %p}"}


def test_the_front_desk_checks_a_patient_in_from_the_keyboard(page, live_server, busy_day):
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    page.goto(f"{live_server.url}/desk/?location={busy_day['location'].pk}&date={busy_day['day']}")
    page.locator(".ec-event.visit").first.wait_for()
    board = page.locator("main")
    assert "Rosa Tester" in board.inner_text() and "James Tester" in board.inner_text()
    assert "Dr. Maya Okafor" in board.inner_text() and "Consult 1" in board.inner_text()
    screenshot(page, "day-board")
    # The card's status button opens the visit; its Check in button moves it, without
    # leaving the page (the calendar refetches its events).
    details = page.get_by_role("button", name=f"Booked: Rosa Tester at {busy_day['rosa_at']}")
    details.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Check in").focus()
    page.keyboard.press("Enter")
    dialog.wait_for(state="hidden")
    page.locator(".ec-event.visit", has_text="Rosa Tester").filter(has_text="Checked in").wait_for()
    rosa = Appointment.objects.get(patient__legal_first_name="Rosa")
    assert rosa.status == AppointmentStatus.CHECKED_IN and rosa.checked_in_at is not None
    assert (
        Appointment.objects.get(patient__legal_first_name="James").status
        == AppointmentStatus.BOOKED
    )
