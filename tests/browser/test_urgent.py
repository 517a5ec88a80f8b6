"""A staff-entered PHQ-9 with item 9 = 1 reaches the physician in Chromium: the worklist lists
the patient with the reason and date, the chart and the history carry the urgent banner, and
the clinician's acknowledgement (with a note) removes both. Screenshots: urgent-*."""

import pytest

from clinic.users.actor import Actor
from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients import services
from patients.models import UrgentFlag
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def flagged_patient(make_user):
    from patients.tests.factories import PatientFactory
    from scheduling.tests.factories import LocationFactory

    desk = make_user("desk9", Role.FRONT_DESK, first_name="Dana")
    make_user("drurgent", Role.CLINICIAN, first_name="Hana")
    patient = PatientFactory(
        legal_first_name="Rosa", legal_last_name="Quintero", home_location=LocationFactory()
    )
    items = {f"q{n}": 0 for n in range(1, 9)} | {"q1": 2, "q9": 1}  # total 3, "minimal"
    services.assessment_record(patient=patient, instrument="phq9", items=items, by=Actor.desk(desk))
    return patient


def test_banner_and_worklist_until_a_clinician_acknowledges(page, live_server, flagged_patient):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server.url, "drurgent", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/history/worklist/")

    page.goto(f"{live_server.url}/history/worklist/")
    entry = page.locator(f'[data-urgent-patient="{flagged_patient.pk}"]')
    assert entry.is_visible()
    text = entry.inner_text()
    assert "Rosa Quintero" in text and "PHQ-9 item 9 above 0" in text
    assert "item 9 answered 1 of 3" in text
    assert entry.locator("time").count() == 1
    screenshot(page, "urgent-worklist")

    page.goto(f"{live_server.url}/patients/{flagged_patient.pk}/history/")
    banner = page.locator("#urgent-banner")
    assert banner.is_visible() and "self-harm" in banner.inner_text()
    assert page.get_by_text("PHQ-9: 3 (minimal) · item 9: 1 (thoughts of self-harm)").is_visible()

    page.goto(f"{live_server.url}/patients/{flagged_patient.pk}/")
    banner = page.locator("#urgent-banner")
    assert banner.is_visible()
    box = banner.bounding_box()
    assert box["x"] + box["width"] <= page.viewport_size["width"]  # no sideways scrolling
    screenshot(page, "urgent-chart")
    page.get_by_label("What was done").fill("Called the patient; safety plan agreed.")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"{live_server.url}/patients/{flagged_patient.pk}/")
    assert page.locator("#urgent-banner").count() == 0
    assert "Acknowledged 1 danger sign" in page.locator(".messages").inner_text()

    page.goto(f"{live_server.url}/history/worklist/")
    assert page.locator(f'[data-urgent-patient="{flagged_patient.pk}"]').count() == 0
    assert page.get_by_text("No patient has an open danger sign.").is_visible()
    flag = UrgentFlag.objects.get(patient=flagged_patient)
    assert flag.acknowledged_by.username == "drurgent"
    assert flag.acknowledgement_note == "Called the patient; safety plan agreed."
    assert errors == []
