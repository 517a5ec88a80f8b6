"""A clinician opens a booked procedure visit on the day board and goes to its record form,
which starts with the visit's time, place, provider, side and levels (issue 20, point 5)."""

import pytest
from django.apps import apps

from clinic.users.actor import Actor
from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.tests.factories import PatientFactory
from procedures import services
from procedures.catalog import load_reference_data
from procedures.models import AuthStatus, ProcedureType
from scheduling.tests.visits import procedure_visit
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def booked(make_user):
    load_reference_data(apps)  # transactional tests empty the tables the migrations filled
    clinician = make_user("drlee", Role.CLINICIAN, first_name="Lee")
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Tester")
    order = services.order_create(
        patient=patient,
        procedure_type=ProcedureType.objects.get(code="tfesi_ls"),
        by=Actor.desk(clinician),
        side="left",
        levels=["L4-L5", "L5-S1"],
        indication_code="M54.16",
        indication_text="Lumbar radiculopathy",
        auth_status=AuthStatus.NOT_NEEDED,
    )
    services.order_authorize(order=order, by=Actor.desk(clinician))
    return procedure_visit(order, days_ahead=1, hour=10)


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_the_day_boards_procedure_visit_opens_its_prefilled_record_form(page, live_server, booked):
    visit = booked
    day = visit.start.astimezone(visit.location.zone).date()
    sign_in(page, live_server.url, "drlee", TEST_PASSWORD)
    page.goto(f"{live_server.url}/desk/?location={visit.location_id}&date={day}")
    page.get_by_role("button", name="Booked: Rosa Tester at 10:00 AM").click()
    dialog = page.get_by_role("dialog")
    record = dialog.get_by_role("link", name="Record the procedure")
    record.wait_for()
    screenshot(page, "day-board-procedure-visit")
    record.click()
    page.wait_for_url(f"**/procedures/orders/{visit.procedure_order_id}/record/?visit={visit.pk}")
    assert page.get_by_label("Performed at").input_value() == f"{day}T10:00"
    assert page.get_by_label("Location").input_value() == str(visit.location_id)
    assert page.get_by_label("Performed by").input_value() == str(visit.provider_id)
    assert page.locator("#id_side").input_value() == "left"
    ticked = page.evaluate(
        "() => Array.from(document.querySelectorAll('input[name=levels]:checked'))"
        ".map(b => b.value)"
    )
    assert ticked == ["L4-L5", "L5-S1"]
    assert page.locator("input[name=pump_reservoir_ml]").count() == 0
    screenshot(page, "record-form-from-visit")
