"""Booking through the week of free times in Chromium, on a laptop (seven columns) and on a
phone (a strip of days, one day shown): the page opens on the first day with free times,
the patient's clinic is preselected, a second visit that day asks before it books, and
nothing scrolls sideways at 390 px."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from clinic.users.actor import Actor
from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.tests.factories import PatientFactory
from procedures.catalog import load_reference_data
from scheduling.models import Appointment, AppointmentStatus, WorkingHours
from scheduling.services import appointment_book
from scheduling.tests.factories import AppointmentTypeFactory, LocationFactory, ProviderFactory
from sites.models import Room, RoomKind
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DENVER = ZoneInfo("America/Denver")
FIRST_DAY_AHEAD = 5  # the provider's first working day: today and the next days are empty


@pytest.fixture
def booking_site(make_user):
    load_reference_data(apps)  # transactional tests empty the tables the migrations filled
    today = timezone.now().astimezone(DENVER).date()
    first_day = today + timedelta(days=FIRST_DAY_AHEAD)
    home = LocationFactory(time_zone="America/Denver", name="Foothills Pain Center")
    LocationFactory(time_zone="America/Denver", name="Aspen Spine Clinic")
    provider = ProviderFactory(locations=[home], first_name="Ada", last_name="Quill")
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=provider,
            location=home,
            weekday=weekday,
            start_time=time(8),
            end_time=time(17),
            valid_from=first_day,
        )
    room = Room.objects.create(location=home, name="Consult 1", kind=RoomKind.CONSULT)
    follow_up = AppointmentTypeFactory(
        code="follow_up",
        name="Follow-up",
        patient_bookable=True,
        min_notice_hours=24,
        max_horizon_days=30,
    )
    user = make_user("rosa", Role.PATIENT)
    patient = PatientFactory(user=user, legal_first_name="Rosa", home_location=home)
    morning = datetime.combine(first_day, time(8), tzinfo=DENVER)
    appointment_book(  # a visit that morning already: a second one asks first
        patient=patient,
        appointment_type=follow_up,
        provider=provider,
        location=home,
        room=room,
        start=morning,
        by=Actor.system(),
    )
    return {"first_day": first_day, "patient": patient}


def fits_the_screen(page) -> None:
    if page.viewport_name == "phone":
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] + 1, f"{widths[0]} px wide on a {widths[1]} px screen"


def test_booking_from_the_week_view(page, live_server, booking_site):
    url, first_day = live_server.url, booking_site["first_day"]
    main = page.get_by_role("main")
    sign_in(page, url, "rosa", TEST_PASSWORD)
    page.goto(f"{url}/portal/book/")
    expect(page.get_by_label("Where")).to_have_value(str(booking_site["patient"].home_location_id))
    page.get_by_role("radio", name="Follow-up").check()
    page.get_by_role("button", name="See free times").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a time")
    expect(main).to_contain_text("times in Mountain Time")
    next_available = page.get_by_role("region", name="Next available")
    expect(next_available).to_contain_text("Dr. Ada Quill")

    days = page.locator(".week-day")
    expect(days.first).to_have_id(f"day-{first_day.isoformat()}")  # never an empty today
    if page.viewport_name == "phone":
        expect(page.locator(".week-day:visible")).to_have_count(1)
        expect(page.get_by_role("navigation", name="Days")).to_be_visible()
        second_day = first_day + timedelta(days=1)
        page.get_by_role("navigation", name="Days").locator(f"a[href='#day-{second_day}']").click()
        expect(page.locator(f"#day-{second_day}")).to_be_visible()
        expect(page.locator(f"#day-{first_day}")).to_be_hidden()
        page.get_by_role("navigation", name="Days").locator(f"a[href='#day-{first_day}']").click()
    else:
        expect(page.get_by_role("navigation", name="Days")).to_be_hidden()
        for offset in range(7):
            expect(page.locator(f"#day-{first_day + timedelta(days=offset)}")).to_be_visible()
    fits_the_screen(page)
    day = page.locator(f"#day-{first_day}")
    expect(day.get_by_role("group", name=re.compile("^Afternoon"))).to_contain_text("2:00 PM")
    screenshot(page, "slot-picker-week")

    day.get_by_role("radio", name=re.compile(r"^2:00 PM with")).check()
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a second visit that day?")
    expect(main).to_contain_text("8:00 AM")
    fits_the_screen(page)
    screenshot(page, "slot-picker-same-day")
    page.get_by_role("button", name="Yes, book this visit too").click()

    page.wait_for_url(re.compile(r"/portal/appointments/[0-9a-f-]+/booked/$"))
    expect(main).to_contain_text("2:00 PM (Mountain Time)")
    booked = Appointment.objects.filter(
        patient=booking_site["patient"], status=AppointmentStatus.BOOKED
    ).order_by("start")
    assert [a.start.astimezone(DENVER).time() for a in booked] == [time(8), time(14)]
