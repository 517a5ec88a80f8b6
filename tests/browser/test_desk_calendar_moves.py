"""Status moves and printing from the desk's calendar in Chromium at 1366x768 (issue 13's
"Done when"): checking in a visit of next week is refused with its reason shown in the
visit's dialog; a visit that started earlier today is marked a no-show and the no-show is
undone from the dialog; "Print the day" opens the printed schedule of the day and the
columns shown. Screenshots are kept under artifacts/screenshots/."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clinic.users.actor import Actor
from clinic.users.roles import Role
from conftest import TEST_PASSWORD, in_default_zone
from patients.tests.factories import PatientFactory
from scheduling.models import Appointment, AppointmentStatus, WorkingHours
from scheduling.services import appointment_book
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from tests.browser.conftest import add_axe, screenshot
from tests.browser.test_calendar import DESKTOP, card
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHICAGO = ZoneInfo("America/Chicago")
# Zones from UTC-10 to UTC+13: at any instant, one of them is in its working day.
ZONES = (
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/New_York",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Sao_Paulo",
    "Atlantic/Azores",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Athens",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Brisbane",
    "Pacific/Noumea",
    "Pacific/Auckland",
)


@pytest.fixture
def desk_page(browser):
    """A desktop page (1366x768), the desk's calendar size."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.viewport_name = "desktop"
    yield page
    context.close()


def zone_in_its_working_day() -> ZoneInfo:
    """A zone where it is now between 9:00 and 19:00, so that a visit started an hour ago is
    on today's date there and the day still has hours left for its undo."""
    for key in ZONES:
        if time(9) <= datetime.now(ZoneInfo(key)).time() <= time(19):
            return ZoneInfo(key)
    pytest.skip("no listed zone is in its working day now")  # cannot happen: they span 23 h


def desk_clinic(make_user, zone: ZoneInfo) -> dict:
    """A location in `zone` with Dr Okafor (Consult 1) and Dr Lind (Consult 2) working
    7:00-21:00 every day."""
    make_user("desk", Role.FRONT_DESK, first_name="Jordan")
    location = LocationFactory(time_zone=zone.key, name="Lakeside Pain Center")
    okafor = ProviderFactory(locations=[location], first_name="Maya", last_name="Okafor")
    lind = ProviderFactory(locations=[location], first_name="Erik", last_name="Lind")
    for provider in (okafor, lind):
        for weekday in range(7):
            WorkingHours.objects.create(
                provider=provider,
                location=location,
                weekday=weekday,
                start_time=time(7),
                end_time=time(21),
            )
    return {
        "zone": zone,
        "location": location,
        "providers": [okafor, lind],
        "rooms": [RoomFactory(location=location, name=f"Consult {n}") for n in (1, 2)],
        "type": AppointmentTypeFactory(name="Follow-up", color="#2e7d32"),
    }


def visit(clinic: dict, first_name: str, start: datetime, which: int = 0) -> Appointment:
    return appointment_book(
        patient=PatientFactory(legal_first_name=first_name, legal_last_name="Tester"),
        appointment_type=clinic["type"],
        provider=clinic["providers"][which],
        location=clinic["location"],
        room=clinic["rooms"][which],
        start=start,
        by=Actor.system(),
    )


def open_visit(page, first_name: str):
    card(page, first_name).locator(".card-status").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    return dialog


def axe_violations(page) -> list[str]:
    add_axe(page)
    return page.evaluate(
        """() => axe.run(document).then(r => r.violations.map(
            v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')))"""
    )


def test_checking_in_a_visit_of_next_week_is_refused(desk_page, live_server, make_user):
    page = desk_page
    clinic = desk_clinic(make_user, CHICAGO)
    today = datetime.now(CHICAGO).date()
    day = today + timedelta(days=7)
    rosa = visit(clinic, "Rosa", datetime.combine(day, time(9), tzinfo=CHICAGO))
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/desk/**")
    page.goto(f"{live_server.url}/desk/?location={clinic['location'].pk}")
    page.locator("#calendar .ec-day").first.wait_for()
    for _ in range(7):  # the calendar's own arrows, a day at a time
        page.get_by_role("link", name="Next").click()
    page.wait_for_function(
        "want => document.getElementById('calendar-range').textContent.includes(want)",
        arg=f"{day:%b} {day.day}, {day.year}",
    )
    dialog = open_visit(page, "Rosa")
    dialog.get_by_role("button", name="Check in").click()
    message = dialog.get_by_role("alert")
    message.wait_for()
    expected = (
        f"This visit is on {day:%a %b} {day.day}, 9:00 AM CT: it can be checked in only on its day."
    )
    assert message.inner_text() == expected
    assert message.is_visible() and dialog.is_visible(), "the dialog stays open with the reason"
    assert axe_violations(page) == [], "the reason is readable (contrast) in the open dialog"
    screenshot(page, "calendar-check-in-next-week-refused")
    rosa.refresh_from_db()
    assert rosa.status == AppointmentStatus.BOOKED
    assert not rosa.status_changes.exists(), "nothing was logged"


def test_a_no_show_then_its_undo_from_the_dialog(desk_page, live_server, make_user):
    page = desk_page
    zone = zone_in_its_working_day()
    clinic = desk_clinic(make_user, zone)
    now = datetime.now(zone)
    started = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0) - timedelta(
        hours=1
    )
    # Booked two hours ago, while that time was still ahead (a booking is never in the past).
    with time_machine.travel(in_default_zone(started - timedelta(hours=1)), tick=True):
        james = visit(clinic, "James", started, which=1)
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/desk/**")
    page.goto(f"{live_server.url}/desk/?location={clinic['location'].pk}&date={now.date()}")
    shown = page.locator(".calendar-zone").inner_text()
    assert f"Times in {zone.key}" in shown
    hour, minute, half = re.search(r"now (\d+):(\d\d) (AM|PM)", shown).groups()
    local_now = datetime.now(zone)
    said = local_now.replace(hour=int(hour) % 12 + (12 if half == "PM" else 0), minute=int(minute))
    assert abs(local_now - said) < timedelta(minutes=2), "now on the location's clock"
    dialog = open_visit(page, "James")
    assert dialog.get_by_role("button", name="Check in").is_visible()
    dialog.get_by_role("button", name="No-show").click()
    dialog.wait_for(state="hidden")
    no_show = card(page, "James").locator(".card-status", has_text="No-show")
    no_show.wait_for()
    james.refresh_from_db()
    assert james.status == AppointmentStatus.NO_SHOW
    assert "James Tester: no-show." in page.locator("#slot-status").inner_text()
    screenshot(page, "calendar-no-show")

    dialog = open_visit(page, "James")
    dialog.get_by_role("button", name="Undo no-show").click()
    dialog.wait_for(state="hidden")
    card(page, "James").locator(".card-status", has_text="Booked").wait_for()
    james.refresh_from_db()
    assert james.status == AppointmentStatus.BOOKED
    undo = james.status_changes.get(undo=True)
    assert undo.from_status == AppointmentStatus.NO_SHOW and undo.by.username == "desk"
    assert "booked again" in page.locator("#slot-status").inner_text()
    screenshot(page, "calendar-no-show-undone")


def test_print_the_day_opens_the_shown_day_and_columns(desk_page, live_server, make_user):
    page = desk_page
    clinic = desk_clinic(make_user, CHICAGO)
    day = datetime.now(CHICAGO).date() + timedelta(days=2)
    visit(clinic, "Rosa", datetime.combine(day, time(9), tzinfo=CHICAGO), which=0)
    visit(clinic, "James", datetime.combine(day, time(10), tzinfo=CHICAGO), which=1)
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/desk/**")
    before = day - timedelta(days=1)
    page.goto(f"{live_server.url}/desk/?location={clinic['location'].pk}&date={before}")
    page.locator("#calendar .ec-day").first.wait_for()
    link = page.get_by_role("link", name="Print the day")
    assert link.is_visible()
    assert f"date={before}&by=provider" in (link.get_attribute("href") or "")
    page.get_by_role("button", name="Day · rooms").click()
    page.get_by_role("link", name="Next").click()
    card(page, "Rosa").wait_for()
    screenshot(page, "calendar-print-link")
    with page.expect_navigation():
        link.click()
    assert page.url.startswith(f"{live_server.url}/desk/print/?")
    assert f"location={clinic['location'].pk}" in page.url
    assert f"date={day}" in page.url and "by=room" in page.url
    sections = page.locator("section.print-section")
    assert sections.locator("h1").all_inner_texts() == ["Consult 1", "Consult 2"]
    assert f"{day:%A, %B} {day.day}, {day.year}" in sections.first.inner_text()
    assert "Rosa Tester" in sections.first.inner_text()
    assert page.locator("button, form, input, nav").count() == 0
    screenshot(page, "print-day-by-room")
