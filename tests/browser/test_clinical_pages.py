"""A clinician works through the real pages in Chromium: reviews an urgent intake and
overrides a safety block on an order. Screenshots are kept in artifacts/screenshots/."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from clinic.users.actor import Actor
from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients import services as patient_services
from patients.questionnaire import RED_FLAGS
from procedures import services as procedure_services
from procedures.catalog import load_reference_data
from procedures.models import ProcedureType
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(make_user):
    """A clinician and a patient with an urgent intake and a blocked order."""
    from patients.tests.factories import PatientFactory

    load_reference_data(apps)  # transactional tests empty the tables the migrations filled
    clinician = make_user("drlee", Role.CLINICIAN, first_name="Lee")
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
    answers = {
        "chief_complaint": "Low back pain and my left leg is getting weaker",
        "pain_locations": ["low_back", "leg"],
        "red_flags": {key: key == "progressive_leg_weakness" for key in RED_FLAGS},
    }
    intake = patient_services.intake_submit(
        patient=patient,
        by=Actor.desk(clinician),
        answers=answers,
        allergies=[{"substance": "Iohexol", "procedure_class": "iodinated_contrast"}],
    )
    patient_services.clinical_entry_add(
        patient=patient,
        chart_list="condition",
        by=Actor.desk(clinician),
        kind="active_infection",
        description="Urinary tract infection",
    )
    order = procedure_services.order_create(
        patient=patient,
        procedure_type=ProcedureType.objects.get(code="tfesi_ls"),
        by=Actor.desk(clinician),
        side="left",
        levels=["L5-S1"],
        indication_code="M54.16",
        indication_text="Lumbar radiculopathy",
        auth_status="not_needed",
        planned_date=timezone.localdate() + timedelta(days=10),
    )
    return {"clinician": clinician, "intake": intake, "order": order}


def test_a_clinician_reviews_an_urgent_intake(page, live_server, clinic):
    sign_in(page, live_server.url, "drlee", TEST_PASSWORD)
    page.goto(f"{live_server.url}/patients/intakes/")
    first = page.locator("main article, main li, main .card").first
    assert "Urgent" in first.inner_text()
    page.get_by_role("link", name="Rosa Quintero").first.click()
    page.wait_for_url(f"{live_server.url}/patients/intakes/{clinic['intake'].pk}/")
    assert "Leg weakness that is severe or getting worse" in page.content()
    screenshot(page, "intake-review")
    page.get_by_role("button", name="Accept").first.click()
    page.wait_for_load_state()
    assert "Accepted" in page.locator("main").inner_text()
    allergy = clinic["intake"].patient.allergies.get()
    assert allergy.recorded_by == clinic["clinician"] and allergy.source == "intake"


def test_a_clinician_overrides_a_block_with_a_reason(page, live_server, clinic):
    order = clinic["order"]
    sign_in(page, live_server.url, "drlee", TEST_PASSWORD)
    page.goto(f"{live_server.url}/procedures/orders/{order.pk}/")
    main = page.locator("main")
    assert "do not replace, clinical judgment" in main.inner_text()
    assert "Active infection is a contraindication" in main.inner_text()
    page.get_by_role("button", name="Override").click()  # no reason yet
    assert page.locator(".field-errors, .errorlist").first.is_visible()
    page.get_by_label("Reason for going ahead").fill(
        "Infection treated; cleared by infectious disease"
    )
    page.get_by_role("button", name="Override").click()
    page.wait_for_load_state()
    assert "Overridden by" in page.locator("main").inner_text()
    screenshot(page, "order-override")
    override = order.overrides.get()
    assert override.overridden_by == clinic["clinician"]
    assert override.reason.startswith("Infection treated")
