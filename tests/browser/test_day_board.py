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
    desk = make_user("desk", Role.FRONT_DESK, first_name="Jordan")
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
    day = datetime.now(CHICAGO).date() + timedelta(days=2)
    kind = AppointmentTypeFactory(name="Follow-up", color="#2e7d32")
    for hour, first in ((9, "Rosa"), (10, "James")):
        appointment_book(
            patient=PatientFactory(legal_first_name=first, legal_last_name="Tester"),
            appointment_type=kind,
            provider=doctor,
            location=location,
            room=room,
            start=datetime.combine(day, time(hour)).replace(tzinfo=CHICAGO),
            by=Actor.desk(desk),
        )
    return {"location": location, "day": day}


def test_the_front_desk_checks_a_patient_in_from_the_keyboard(page, live_server, busy_day):
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    page.goto(f"{live_server.url}/desk/?location={busy_day['location'].pk}&date={busy_day['day']}")
    board = page.locator("main")
    assert "Rosa Tester" in board.inner_text() and "James Tester" in board.inner_text()
    assert "Dr. Maya Okafor" in board.inner_text() and "Consult 1" in board.inner_text()
    screenshot(page, "day-board")
    check_in = page.get_by_role("button", name="Check in Rosa Tester at 9:00 AM")
    check_in.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Checked in" in page.locator("main").inner_text()
    rosa = Appointment.objects.get(patient__legal_first_name="Rosa")
    assert rosa.status == AppointmentStatus.CHECKED_IN
    assert (
        Appointment.objects.get(patient__legal_first_name="James").status
        == AppointmentStatus.BOOKED
    )
