"""The front desk books in Chromium: a follow-up into an offered slot, found by typing the
patient's name; an authorized radiofrequency ablation from its order, its safety findings
shown before the desk confirms. Screenshots at desktop (1366 px) and phone size."""

import pytest

from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.tests.factories import PatientFactory
from procedures.models import OrderStatus
from scheduling.models import Appointment
from scheduling.tests.test_desk_booking import DENVER, authorized_rfa, desk_site
from tests.browser.conftest import add_axe, screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(make_user):
    make_user("desk", Role.FRONT_DESK, first_name="Jordan")
    return {"clinician": make_user("doc", Role.CLINICIAN, first_name="Maya"), **desk_site()}


def test_the_desk_books_a_follow_up_into_an_offered_slot(page, live_server, desk):
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/desk/**")
    page.goto(f"{live_server.url}/desk/book/?location={desk['location'].pk}")
    page.get_by_label("Find the patient").press_sequentially("quint", delay=30)
    found = page.get_by_label("Rosa Quintero")  # the htmx answer, without a submit
    found.wait_for()
    assert page.url.endswith(f"?location={desk['location'].pk}"), "the search stays out of URLs"
    found.check()
    assert page.get_by_label("Kind of visit").input_value() == str(desk["type"].pk)
    assert page.locator('input[type="datetime-local"]:visible').count() == 0, "no typed time"
    page.get_by_role("button", name="Next day →").click()
    slots = page.locator('input[name="slot"]')
    assert slots.count() > 10
    first = page.locator('label[for="slot-1"]').inner_text()
    assert first.startswith("8:00 AM\u20138:20 AM · Dr. Ana Alpha, MD"), first
    screenshot(page, "desk-book-follow-up")
    slots.first.check()
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_url(f"{live_server.url}/desk/?**")
    visit = Appointment.objects.get()
    assert visit.patient == patient and not visit.overbooked
    local = visit.start.astimezone(DENVER)
    assert (local.hour, local.minute) == (8, 0)
    assert "Booked Rosa Quintero" in page.locator(".messages").inner_text()


def test_the_desk_books_an_authorized_rfa_after_seeing_its_findings(page, live_server, desk):
    patient = PatientFactory(legal_first_name="James", legal_last_name="Knight")
    order = authorized_rfa(patient, desk["clinician"], override=True)
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/desk/**")
    page.goto(f"{live_server.url}/procedures/orders/{order.pk}/")
    page.get_by_role("link", name="Book this procedure").click()
    page.wait_for_url(f"{live_server.url}/desk/book/?order={order.pk}")
    assert page.get_by_label("James Knight").is_checked()
    assert page.get_by_label("Radiofrequency ablation", exact=False).is_checked()
    page.get_by_role("button", name="Next day →").click()
    first = page.locator('label[for="slot-1"]').inner_text()
    assert first.startswith("8:00 AM\u20138:50 AM"), "two levels: 50 minutes"
    assert "Fluoro 1" in first
    page.locator('input[name="slot"]').first.check()
    page.get_by_role("button", name="Review the safety check").click()
    review = page.locator("#review")
    review.wait_for()
    assert "Facet RFA needs 2 positive medial branch blocks" in review.inner_text()
    assert "Block overridden" in review.inner_text()
    assert not Appointment.objects.exists(), "nothing booked before the confirmation"
    screenshot(page, "desk-book-rfa-findings")
    review.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url(f"{live_server.url}/desk/?**")
    visit = Appointment.objects.get()
    assert visit.procedure_order == order and visit.room == desk["suite"]
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED


def axe_violations(page) -> list[str]:
    add_axe(page)
    return page.evaluate(
        """() => axe.run(document).then(r => r.violations.map(
            v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')))"""
    )


def test_axe_finds_no_violation_on_the_booking_steps(page, live_server, desk):
    """The search step (with its results), the list of offered times, and a procedure's
    review of its safety findings."""
    PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
    james = PatientFactory(legal_first_name="James", legal_last_name="Knight")
    order = authorized_rfa(james, desk["clinician"], override=True)
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/desk/**")
    page.goto(f"{live_server.url}/desk/book/?location={desk['location'].pk}")
    page.get_by_label("Find the patient").press_sequentially("quint", delay=30)
    page.get_by_label("Rosa Quintero").wait_for()
    assert axe_violations(page) == [], "the search step"
    page.get_by_label("Rosa Quintero").check()
    page.get_by_role("button", name="Next day →").click()
    page.locator('input[name="slot"]').first.wait_for()
    assert axe_violations(page) == [], "the offered times"
    screenshot(page, "desk-book-axe-slots")

    page.goto(f"{live_server.url}/desk/book/?order={order.pk}")
    page.get_by_role("button", name="Next day →").click()
    page.locator('input[name="slot"]').first.check()
    page.get_by_role("button", name="Review the safety check").click()
    page.locator("#review").wait_for()
    assert axe_violations(page) == [], "the procedure's review"
    screenshot(page, "desk-book-axe-review")
