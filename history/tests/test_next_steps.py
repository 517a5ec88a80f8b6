"""The pathway panel's next step (issue 20, point 2): after two positive medial branch blocks,
an ablation ordered at their levels and side, prefilled through ids and levels only; after
one, the confirming block; "Order a procedure" on the history page."""

import re
from datetime import date, time
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from history.next_steps import with_next_steps
from history.selectors import patient_history
from patients.tests.factories import PatientFactory
from procedures.tests.factories import ProcedureOrderFactory, at, procedure_type, record

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
LEVELS = ["L4-L5", "L5-S1"]


@pytest.fixture(autouse=True)
def clock_on_today(clock):
    clock.move_to(at(TODAY, time(12)))


def block(patient, days_ago: int, relief, *, side="left", levels=LEVELS, with_order=True):
    order = ProcedureOrderFactory(patient=patient, code="mbb_ls") if with_order else None
    return record(
        patient,
        "mbb_ls",
        days_ago,
        relief=relief,
        today=TODAY,
        side=side,
        levels=levels,
        order=order,
    )


def steps(patient) -> dict:
    history = patient_history(patient=patient, today=TODAY)
    return with_next_steps(patient.pk, history["pathway"])


def query_of(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def test_two_positive_blocks_suggest_the_ablation_at_their_levels_and_side():
    patient = PatientFactory()
    block(patient, 60, 85, levels=["L4-L5"])
    newest = block(patient, 40, 90)
    (lumbar,) = steps(patient)["regions"]
    step = lumbar["next_step"]
    assert step["label"] == "Order radiofrequency ablation"
    query = query_of(step["url"])
    assert query == {
        "patient": [str(patient.pk)],
        "procedure": ["rfa_ls"],
        "side": ["left"],
        "levels": LEVELS,
        "indication_from": [str(newest.order_id)],
    }
    assert step["detail"] == "Left · L4-L5, L5-S1"


def test_blocks_on_both_sides_suggest_a_bilateral_ablation():
    patient = PatientFactory()
    block(patient, 60, 85, side="left", with_order=False)
    block(patient, 40, 90, side="right", with_order=False)
    (lumbar,) = steps(patient)["regions"]
    query = query_of(lumbar["next_step"]["url"])
    assert query["side"] == ["bilateral"] and "indication_from" not in query


def test_one_positive_block_suggests_the_confirming_block():
    patient = PatientFactory()
    block(patient, 60, 40)
    block(patient, 40, 85)
    (lumbar,) = steps(patient)["regions"]
    assert lumbar["next_step"]["label"] == "Order the confirming medial branch block"
    assert query_of(lumbar["next_step"]["url"])["procedure"] == ["mbb_ls"]


def test_no_positive_block_suggests_nothing():
    patient = PatientFactory()
    block(patient, 60, 40)
    (lumbar,) = steps(patient)["regions"]
    assert lumbar["next_step"] is None


def test_a_successful_stimulator_trial_suggests_the_implant():
    patient = PatientFactory()
    record(patient, "scs_trial", 30, relief=70, today=TODAY)
    step = steps(patient)["scs_step"]
    assert step["label"] == "Order the permanent stimulator implant"
    assert query_of(step["url"])["procedure"] == ["scs_implant"]


def test_the_history_page_orders_and_its_suggestion_opens_a_prefilled_form(client, clinician_user):
    patient = PatientFactory()
    block(patient, 60, 85)
    block(patient, 40, 90)
    client.sign_in(clinician_user)
    html = client.get(reverse("patient-history", args=[patient.pk])).content.decode()
    assert f'href="{reverse("procedures:order-create")}?patient={patient.pk}"' in html
    link = unescape(re.search(r'href="([^"]+)" data-next-step="lumbar_sacral"', html).group(1))
    form = client.get(link).content.decode()
    rfa = procedure_type("rfa_ls")
    assert f'<option value="{rfa.pk}" selected>' in form
    assert '<option value="left" selected>' in form
    assert re.findall(r'name="levels" value="([^"]+)"[^>]*checked', form) == LEVELS
    assert 'value="M54.16"' in form and 'value="Lumbar radiculopathy"' in form
