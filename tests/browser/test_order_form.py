"""The new-order form in Chromium (issue 20, point 2): the procedures grouped by region and
narrowed by the filter box, only the chosen procedure's side and levels offered, the ICD-10
code looked up in the clinic's list (a code outside it flagged); and the history's pathway
panel opening the suggested ablation prefilled. Screenshots in artifacts/screenshots/."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.tests.factories import PatientFactory
from procedures.catalog import load_reference_data
from procedures.models import ProcedureOrder
from procedures.tests.factories import ProcedureOrderFactory, record
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
RFA = "Radiofrequency ablation of medial branch nerves - lumbar/sacral"
LEVELS = ["L4-L5", "L5-S1"]


@pytest.fixture
def clinic(make_user):
    load_reference_data(apps)  # transactional tests empty the tables the migrations filled
    make_user("drlee", Role.CLINICIAN, first_name="Lee")
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
    two_positive_blocks(patient, timezone.localdate())
    return {"patient": patient}


def two_positive_blocks(patient, today) -> None:
    """Two left L4-L5/L5-S1 medial branch blocks with 85% and 90% relief: the pathway then
    suggests the ablation at those levels and side."""
    for days_ago, relief in ((60, 85), (40, 90)):
        order = ProcedureOrderFactory(patient=patient, code="mbb_ls", indication_code="M47.816")
        record(
            patient,
            "mbb_ls",
            days_ago,
            relief=relief,
            today=today,
            side="left",
            levels=LEVELS,
            order=order,
        )


def refusals(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Refused" in m.text else None)
    return found


def shown_options(page) -> list[str]:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#id_procedure_type option'))"
        ".filter(o => o.value && !o.hidden).map(o => o.textContent)"
    )


def shown_levels(page) -> list[str]:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('input[name=levels]'))"
        ".filter(b => b.offsetParent !== null).map(b => b.value)"
    )


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_procedures_filter_by_region_and_words_and_offer_their_own_levels(
    page, live_server, clinic
):
    blocked = refusals(page)
    sign_in(page, live_server.url, "drlee", TEST_PASSWORD)
    page.goto(f"{live_server.url}/procedures/orders/new/?patient={clinic['patient'].pk}")
    assert page.locator("#id_procedure_type optgroup[label='Knee']").count() == 1
    page.get_by_label("Filter procedures").fill("genicular")
    assert shown_options(page) == [
        "Genicular nerve block",
        "Genicular nerve radiofrequency ablation",
    ]
    assert page.locator("#procedure-filter-count").inner_text() == "2 procedures match"
    page.get_by_label("Filter procedures").fill("radiofrequency lumbar")
    assert shown_options(page) == [RFA]
    page.select_option("#id_procedure_type", label=RFA)
    levels = shown_levels(page)
    assert "L4-L5" in levels and "S1" in levels and "C5-C6" not in levels
    assert page.locator("#id_side").is_visible()

    page.get_by_label("Filter procedures").fill("trigger")
    page.select_option("#id_procedure_type", label="Trigger point injection")
    assert shown_levels(page) == [] and not page.locator("#id_side").is_visible()

    code = page.get_by_label("ICD-10 code")
    code.fill("M99.03")
    assert page.locator("#icd10-flag").is_visible()
    assert "not in the clinic's list" in page.locator("#icd10-flag").inner_text()
    code.fill("M79.18")
    assert not page.locator("#icd10-flag").is_visible()
    assert page.get_by_label("Indication").input_value() == "Myalgia, other site"
    screenshot(page, "order-form-filtered")
    page.get_by_role("button", name="Create order").click()
    page.wait_for_url(f"{live_server.url}/procedures/orders/*/")
    order = ProcedureOrder.objects.get(procedure_type__code="trigger_point")
    assert order.indication_code == "M79.18" and order.levels == [] and order.side == ""
    assert blocked == []


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_the_pathway_orders_the_suggested_ablation_prefilled(page, live_server, clinic):
    blocked = refusals(page)
    patient = clinic["patient"]
    sign_in(page, live_server.url, "drlee", TEST_PASSWORD)
    page.goto(f"{live_server.url}/patients/{patient.pk}/history/")
    assert page.get_by_role("link", name="Order a procedure").first.is_visible()
    page.get_by_role("link", name="Order radiofrequency ablation").click()
    page.wait_for_url("**/procedures/orders/new/*")
    assert page.locator("#id_procedure_type option:checked").inner_text() == RFA
    assert page.locator("#id_side").input_value() == "left"
    ticked = page.evaluate(
        "() => Array.from(document.querySelectorAll('input[name=levels]:checked'))"
        ".map(b => b.value)"
    )
    assert ticked == LEVELS
    assert page.get_by_label("ICD-10 code").input_value() == "M47.816"
    screenshot(page, "order-form-from-pathway")
    page.get_by_label("Planned date").fill(str(timezone.localdate() + timedelta(days=14)))
    page.get_by_role("button", name="Create order").click()
    page.wait_for_url(f"{live_server.url}/procedures/orders/*/")
    order = ProcedureOrder.objects.get(procedure_type__code="rfa_ls")
    assert (order.side, order.levels, order.indication_code) == ("left", LEVELS, "M47.816")
    assert page.get_by_role("button", name="Save the payer's answer").is_visible()
    screenshot(page, "order-next-step")
    assert blocked == []
