"""The desk's waitlist and the printed day in Chromium: add a patient to the waitlist, offer
a freed slot by hand (the patient gets the automatic offer's message), and print the day to
PDF with one page per provider. Screenshots and the PDF are kept as artifacts."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.users.actor import Actor
from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from notifications.models import Message, MessageKind
from patients.tests.factories import PatientFactory
from scheduling.models import AppointmentStatus, OfferStatus, WaitlistOffer, WorkingHours
from scheduling.services import appointment_book, appointment_move
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in
from tests.support import artifacts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DENVER = ZoneInfo("America/Denver")
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


@pytest.fixture
def denver_day(make_user):
    """Dr. Reyes works 9:00-10:00 in Denver; the 9:00 visit was cancelled before anyone
    waited (so nobody was offered it), the 9:30 one stands. Dr. Cole has one visit."""
    desk = make_user("desk", Role.FRONT_DESK, first_name="Jordan")
    location = LocationFactory(time_zone="America/Denver", name="Denver Spine")
    reyes = ProviderFactory(locations=[location], first_name="Ana", last_name="Reyes")
    cole = ProviderFactory(locations=[location], first_name="Ben", last_name="Cole")
    room = RoomFactory(location=location, name="Consult A")
    other_room = RoomFactory(location=location, name="Consult B")
    for provider, start, end in ((reyes, time(9), time(10)), (cole, time(13), time(15))):
        for weekday in range(7):
            WorkingHours.objects.create(
                provider=provider,
                location=location,
                weekday=weekday,
                start_time=start,
                end_time=end,
            )
    kind = AppointmentTypeFactory(name="Follow-up")
    day = datetime.now(DENVER).date() + timedelta(days=3)

    def visit(first, provider, at, where):
        return appointment_book(
            patient=PatientFactory(legal_first_name=first, legal_last_name="Tester"),
            appointment_type=kind,
            provider=provider,
            location=location,
            room=where,
            start=datetime.combine(day, at, DENVER),
            by=Actor.desk(desk),
        )

    freed = visit("Cancelled", reyes, time(9), room)
    visit("Stays", reyes, time(9, 30), room)
    visit("Afternoon", cole, time(13), other_room)
    appointment_move(
        appointment=freed, to=AppointmentStatus.CANCELLED, by=Actor.desk(desk), reason="Ill"
    )
    waiting = PatientFactory(
        legal_first_name="Rosa", legal_last_name="Quintero", consent_email=True
    )
    return {"location": location, "day": day, "freed": freed, "waiting": waiting, "kind": kind}


def test_the_desk_adds_a_patient_and_offers_the_freed_slot_by_hand(page, live_server, denver_day):
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    page.goto(f"{live_server.url}/desk/waitlist/")
    page.get_by_role("link", name="Waitlist").first.wait_for()
    page.get_by_label("Find the patient").fill("Quintero")
    page.get_by_role("button", name="Search").click()
    page.get_by_label(re.compile("Rosa Quintero")).check()
    page.get_by_label("Kind of visit", exact=True).last.select_option(label="Follow-up")
    page.get_by_label("From").fill(denver_day["day"].isoformat())
    page.get_by_label("Until").fill((denver_day["day"] + timedelta(days=2)).isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Add to the waitlist").click()
    waiting = page.locator("table.waitlist-entries")
    assert "Rosa Quintero" in waiting.inner_text()
    screenshot(page, "waitlist")

    with page.expect_navigation():
        page.get_by_role("link", name="Offer a slot to Rosa Quintero").click()
    freed_local = denver_day["freed"].start.astimezone(DENVER)
    label = f"Offer {freed_local:%a %b} {freed_local.day}, 9:00 AM MT"
    offer_button = page.get_by_role("button", name=re.compile(re.escape(label)))
    assert offer_button.count() == 1  # the freed 9:00, shown in Denver time
    with page.expect_navigation():
        offer_button.click()
    assert "the patient is told the same way as an automatic offer" in page.content()
    assert "Pending" in page.locator("main").inner_text()
    screenshot(page, "waitlist-offer")

    offer = WaitlistOffer.objects.get(entry__patient=denver_day["waiting"])
    assert offer.status == OfferStatus.OPEN and offer.start == denver_day["freed"].start
    assert Message.objects.filter(subject_id=offer.pk, kind=MessageKind.WAITLIST_OFFER).exists()


def test_the_printed_day_has_one_page_per_provider(page, live_server, denver_day):
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    location, day = denver_day["location"], denver_day["day"]
    page.goto(f"{live_server.url}/desk/print/?location={location.pk}&date={day}&by=provider")
    assert page.locator("button, form, input, nav").count() == 0
    assert page.locator("section.print-section").count() == 2
    pdf = page.pdf(format="Letter", print_background=False)
    path = artifacts("pdf", f"print-day-{page.viewport_name}.pdf")
    path.write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    assert len(PAGE_OBJECT.findall(pdf)) == 2  # Dr. Reyes and Dr. Cole, one page each


def test_the_chart_shows_the_visits_in_mt_and_a_book_button(page, live_server, denver_day):
    patient = denver_day["freed"].patient  # its visit was cancelled: a past/closed visit
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    visits = page.locator("section.chart-visits")
    visits.wait_for()  # loaded by htmx after the page
    text = visits.inner_text()
    freed_local = denver_day["freed"].start.astimezone(DENVER)
    assert f"{freed_local:%a %b} {freed_local.day}, 9:00 AM MT" in text
    assert "Cancelled" in text
    assert page.locator("section.chart-messages").count() == 1
    book = page.get_by_role("link", name=f"Book a visit for {patient.full_name}").first
    assert f"patient={patient.pk}" in (book.get_attribute("href") or "")
    screenshot(page, "chart-visits")
