"""The front desk's calendar in Chromium at 1366x768: the day's visits in provider columns and
then room columns, drag and drop through the reschedule service (a taken time offers its
alternatives in place, the last move is undone), a second desk sees a change within 5 seconds,
the keyboard reaches the booking page with the slot filled in, and axe-core finds nothing.
Screenshots are kept under artifacts/screenshots/."""

import re
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
from tests.browser.conftest import add_axe, screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1366, "height": 768}
ZONE = ZoneInfo("America/Chicago")
SEEN_WITHIN_MS = 5_000


@pytest.fixture
def desk_page(browser):
    """A desktop page (1366x768); the calendar is the desk's tool at that size."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.viewport_name = "desktop"
    yield page
    context.close()


@pytest.fixture
def clinic_day(make_user):
    """A location with two physicians and two consult rooms working all day, tomorrow in its
    zone, with two visits: Rosa at 9:00 (Dr Okafor, Consult 1), James at 10:00 (Dr Lind,
    Consult 2)."""
    desk = make_user("desk", Role.FRONT_DESK, first_name="Jordan")
    location = LocationFactory(time_zone=ZONE.key, name="Lakeside Pain Center")
    okafor = ProviderFactory(locations=[location], first_name="Maya", last_name="Okafor")
    lind = ProviderFactory(locations=[location], first_name="Erik", last_name="Lind")
    rooms = [RoomFactory(location=location, name=f"Consult {n}") for n in (1, 2)]
    for provider in (okafor, lind):
        for weekday in range(7):
            WorkingHours.objects.create(
                provider=provider,
                location=location,
                weekday=weekday,
                start_time=time(8),
                end_time=time(17),
            )
    day = datetime.now(ZONE).date() + timedelta(days=1)
    kind = AppointmentTypeFactory(name="Follow-up", color="#2e7d32")
    visits = {}
    for hour, first, provider, room in (
        (9, "Rosa", okafor, rooms[0]),
        (10, "James", lind, rooms[1]),
    ):
        visits[first] = appointment_book(
            patient=PatientFactory(legal_first_name=first, legal_last_name="Tester"),
            appointment_type=kind,
            provider=provider,
            location=location,
            room=room,
            start=datetime.combine(day, time(hour)).replace(tzinfo=ZONE),
            by=Actor.desk(desk),
        )
    return {
        "desk": desk,
        "location": location,
        "day": day,
        "providers": [okafor, lind],
        "rooms": rooms,
        "type": kind,
        "visits": visits,
    }


def open_calendar(page, base_url: str, clinic_day, **params) -> None:
    sign_in(page, base_url, "desk", TEST_PASSWORD)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    page.goto(
        f"{base_url}/desk/?location={clinic_day['location'].pk}&date={clinic_day['day']}&{query}"
    )
    page.locator(".ec-event.visit").first.wait_for()


def card(page, first_name: str):
    return page.locator(".ec-event.visit", has_text=f"{first_name} Tester")


def drag(page, source, dx: float, dy: float) -> None:
    """Drag with the mouse in small steps (EventCalendar starts a drag after a few pixels)."""
    box = source.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + 8
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 5, y + 5, steps=3)
    page.mouse.move(x + dx, y + dy, steps=12)
    page.mouse.up()


def slot_height(page) -> float:
    return page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.ec-main'))"
        ".getPropertyValue('--ec-slot-height'))"
    )


def booked(first_name: str) -> Appointment:
    return Appointment.objects.get(
        patient__legal_first_name=first_name, status=AppointmentStatus.BOOKED
    )


def test_the_day_by_provider_then_by_room(desk_page, live_server, clinic_day):
    page = desk_page
    open_calendar(page, live_server.url, clinic_day)
    heads = page.locator(".ec-col-head").all_inner_texts()
    assert heads == ["Dr. Erik Lind, MD", "Dr. Maya Okafor, MD"]
    rosa, james = card(page, "Rosa"), card(page, "James")
    assert "9:00" in rosa.inner_text() and "Follow-up" in rosa.inner_text()
    assert rosa.get_by_role("link", name="Rosa Tester").get_attribute("href") == (
        f"/patients/{clinic_day['visits']['Rosa'].patient_id}/"
    )
    # Rosa is in Dr Okafor's (second) column, James in Dr Lind's (first).
    assert rosa.bounding_box()["x"] > james.bounding_box()["x"]
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1366, "nothing runs off the screen"
    screenshot(page, "calendar-day-providers")
    page.get_by_role("button", name="Day · rooms").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.ec-col-head')].map(e => e.innerText)"
        ".join('|') === 'Consult 1|Consult 2'"
    )
    assert card(page, "Rosa").count() == 1 and card(page, "James").count() == 1
    assert card(page, "Rosa").bounding_box()["x"] < card(page, "James").bounding_box()["x"]
    screenshot(page, "calendar-day-rooms")
    page.get_by_role("button", name="Week").click()
    # The week is one provider's: Dr Lind's first (James), then Dr Okafor's (Rosa).
    card(page, "Rosa").wait_for(state="detached")
    card(page, "James").wait_for()
    page.get_by_label("Provider", exact=True).select_option(label="Dr. Maya Okafor, MD")
    card(page, "James").wait_for(state="detached")
    card(page, "Rosa").wait_for()
    page.get_by_role("button", name="Month").click()
    page.locator(".ec-event.day-load", has_text="2 visits").wait_for()
    screenshot(page, "calendar-month")


def test_drag_a_visit_to_another_time_then_undo_it(desk_page, live_server, clinic_day):
    page = desk_page
    open_calendar(page, live_server.url, clinic_day)
    height = slot_height(page)
    drag(page, card(page, "Rosa"), 0, 8 * height)  # 9:00 -> 11:00, same column
    page.locator("#move-panel").wait_for()
    assert "moved to" in page.locator("#move-text").inner_text()
    moved = booked("Rosa")
    assert moved.start == datetime.combine(clinic_day["day"], time(11)).replace(tzinfo=ZONE)
    assert moved.provider == clinic_day["providers"][0]
    screenshot(page, "calendar-dragged")
    page.get_by_role("button", name="Undo move").click()
    page.locator("#move-panel").wait_for(state="hidden")
    back = booked("Rosa")
    assert back.start == datetime.combine(clinic_day["day"], time(9)).replace(tzinfo=ZONE)
    card(page, "Rosa").filter(has_text="9:00").wait_for()


def test_a_conflicting_drag_offers_the_free_times(desk_page, live_server, clinic_day):
    page = desk_page
    open_calendar(page, live_server.url, clinic_day)
    james, rosa = card(page, "James"), card(page, "Rosa")
    dx = rosa.bounding_box()["x"] - james.bounding_box()["x"]
    drag(page, james, dx, -4 * slot_height(page))  # onto Dr Okafor at 9:00, Rosa's time
    panel = page.locator("#conflict-panel")
    panel.wait_for()
    choices = panel.get_by_role("button").filter(has_text="Dr.")
    assert choices.count() >= 1
    assert booked("James").start.astimezone(ZONE).hour == 10, "nothing moved yet"
    screenshot(page, "calendar-conflict")
    label = choices.first.inner_text()
    choices.first.click()
    page.locator("#move-panel").wait_for()
    moved = booked("James")
    assert moved.start.astimezone(ZONE).strftime("%-I:%M %p") in label
    assert panel.is_hidden()


def test_a_second_desk_sees_a_booking_within_5_seconds(desk_page, browser, live_server, clinic_day):
    page = desk_page
    open_calendar(page, live_server.url, clinic_day)
    card(page, "Rosa").locator(".card-status").click()
    reason = page.get_by_label("Reason to cancel")
    reason.fill("Running late, will call")
    other = browser.new_context(viewport=DESKTOP)
    try:
        second = other.new_page()
        second.viewport_name = "desktop"
        open_calendar(second, live_server.url, clinic_day)
        appointment_book(
            patient=PatientFactory(legal_first_name="Nina", legal_last_name="Tester"),
            appointment_type=clinic_day["type"],
            provider=clinic_day["providers"][1],
            location=clinic_day["location"],
            room=clinic_day["rooms"][0],
            start=datetime.combine(clinic_day["day"], time(13)).replace(tzinfo=ZONE),
            by=Actor.desk(clinic_day["desk"]),
        )
        # Progress-bounded: each page shows Nina as soon as its poll brings her.
        card(second, "Nina").wait_for(timeout=SEEN_WITHIN_MS)
        card(page, "Nina").wait_for(timeout=SEEN_WITHIN_MS)
        assert reason.input_value() == "Running late, will call", "the typing survives"
        screenshot(second, "calendar-second-desk")
    finally:
        other.close()


def test_arrows_and_enter_reach_the_booking_page_with_the_slot(desk_page, live_server, clinic_day):
    page = desk_page
    open_calendar(page, live_server.url, clinic_day)
    page.locator("#calendar").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    status = page.locator("#slot-status")
    assert re.search(r"Okafor.*9:30 AM", status.inner_text())
    assert page.locator("#slot-cursor").is_visible()
    screenshot(page, "calendar-keyboard")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    day = clinic_day["day"]
    assert "/desk/book/" in page.url
    assert f"provider={clinic_day['providers'][0].pk}" in page.url
    assert f"start={day}T09%3A30" in page.url and f"date={day}" in page.url
    assert f"location={clinic_day['location'].pk}" in page.url


def test_escape_closes_the_visit_dialog(desk_page, live_server, clinic_day):
    page = desk_page
    open_calendar(page, live_server.url, clinic_day)
    card(page, "James").locator(".card-status").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_by_role("link", name="James Tester").is_visible()
    assert dialog.get_by_role("button", name="Check in").is_visible()
    screenshot(page, "calendar-dialog")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


def test_axe_finds_no_violation(desk_page, live_server, clinic_day):
    page = desk_page
    open_calendar(page, live_server.url, clinic_day)
    add_axe(page)
    violations = page.evaluate(
        """() => axe.run(document).then(r => r.violations.map(
            v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')))"""
    )
    assert violations == []


def test_a_click_on_a_free_time_opens_the_booking_page_with_it(desk_page, live_server, clinic_day):
    page = desk_page
    open_calendar(page, live_server.url, clinic_day)
    rosa = card(page, "Rosa").bounding_box()
    height = slot_height(page)
    with page.expect_navigation():
        page.mouse.click(rosa["x"] + rosa["width"] / 2, rosa["y"] + 8 * height + height / 2)
    day = clinic_day["day"]
    assert "/desk/book/" in page.url
    assert f"provider={clinic_day['providers'][0].pk}" in page.url
    assert f"start={day}T11%3A00" in page.url
