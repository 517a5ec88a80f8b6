"""Ordering where the decision is made (issue 20, points 2 and 3): the form without a patient,
a prefilled order, the procedures grouped by region, the clinic's ICD-10 list and a code
outside it, levels as checkboxes; the order page's next move and the cancel confirmation."""

import re
import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from clinic.users.actor import Actor
from patients.icd10 import clinic_codes, diagnosis_for, in_clinic_list
from procedures import services
from procedures.models import AuthStatus, OrderStatus, ProcedureOrder
from procedures.tests.factories import procedure_type

pytestmark = pytest.mark.django_db

NEW = reverse("procedures:order-create")


def order_of(patient, by, **fields) -> ProcedureOrder:
    values = {
        "procedure_type": procedure_type("mbb_ls"),
        "side": "left",
        "levels": ["L4-L5", "L5-S1"],
        "indication_code": "M47.816",
        "indication_text": "Lumbar facet arthropathy",
        "auth_status": AuthStatus.PENDING,
    } | fields
    return services.order_create(patient=patient, by=Actor.desk(by), **values)


def body(**overrides) -> dict:
    values = {
        "procedure_type": str(procedure_type("rfa_ls").pk),
        "side": "left",
        "levels": ["L4-L5", "L5-S1"],
        "indication_code": "M47.816",
        "indication_text": "Lumbar facet arthropathy",
        "urgency": "routine",
        "planned_date": str(timezone.localdate() + timedelta(days=14)),
        "auth_status": "pending",
    }
    return values | overrides


def html_of(response) -> str:
    return response.content.decode()


def code_value(html: str) -> str | None:
    """The ICD-10 input's value (the datalist's options hold codes too)."""
    tag = re.search(r'<input type="text" name="indication_code"[^>]*>', html).group(0)
    found = re.search(r'value="([^"]*)"', tag)
    return found.group(1) if found else None


def checked_levels(html: str) -> list[str]:
    return re.findall(r'<input type="checkbox" name="levels" value="([^"]+)"[^>]*checked', html)


# --- The form without a patient ------------------------------------------------------------


def test_the_form_without_a_patient_is_a_patient_chooser(client, clinician_user, own_patient):
    client.sign_in(clinician_user)
    page = client.get(NEW)
    assert page.status_code == 200
    assert "Choose the patient first" in html_of(page)
    found = client.post(NEW, {"q": own_patient.mrn})
    assert found.status_code == 200
    assert f"{NEW}?patient={own_patient.pk}" in html_of(found)
    none = client.post(NEW, {"q": "no such person zz"})
    assert "No patient matches." in html_of(none)
    assert not ProcedureOrder.objects.exists()


def test_an_unknown_patient_is_the_sites_404_page(client, clinician_user):
    client.sign_in(clinician_user)
    response = client.get(NEW + "?patient=7b0c3f8e-8d3c-4a8e-9f6a-0d6a2c1b9e11")
    assert response.status_code == 404
    html = html_of(response)
    assert "There is nothing at this address." in html and "Traceback" not in html


# --- Grouping, levels and the ICD-10 list ----------------------------------------------------


def test_procedures_are_grouped_by_region_and_levels_are_checkboxes(
    client, clinician_user, own_patient
):
    client.sign_in(clinician_user)
    html = html_of(client.get(f"{NEW}?patient={own_patient.pk}"))
    assert '<optgroup label="Lumbar sacral">' in html and '<optgroup label="Knee">' in html
    assert 'id="procedure-filter"' in html and "js/order_form.js" in html
    assert '<input type="checkbox" name="levels" value="L4-L5"' in html
    assert '<input type="checkbox" name="levels" value="C5-C6"' in html
    assert 'id="order-procedure-rules"' in html


def test_the_clinics_codes_are_offered_with_their_source(client, clinician_user, own_patient):
    codes = clinic_codes()
    assert len(codes) >= 60 and len({c.code for c in codes}) == len(codes)
    assert diagnosis_for("m54.16").description == "Radiculopathy, lumbar region"
    client.sign_in(clinician_user)
    html = html_of(client.get(f"{NEW}?patient={own_patient.pk}"))
    assert 'list="icd10-codes"' in html and '<datalist id="icd10-codes">' in html
    assert '<option value="M47.816" data-description="Spondylosis without myelopathy' in html
    assert html.count("<option value=", html.index('<datalist id="icd10-codes">')) >= len(codes)
    assert "CMS ICD-10-CM" in html


def test_a_code_outside_the_list_is_accepted_and_flagged(client, clinician_user, own_patient):
    assert not in_clinic_list("M99.03")
    client.sign_in(clinician_user)
    created = client.post(
        f"{NEW}?patient={own_patient.pk}", body(indication_code="m99.03", indication_text="x")
    )
    order = ProcedureOrder.objects.get()
    assert created.status_code == 302 and order.indication_code == "M99.03"
    page = html_of(client.get(reverse("procedures:order", args=[order.pk])))
    assert 'M99.03 · x <span class="badge warn">not in the clinic&#x27;s list</span>' in page
    listed = order_of(own_patient, clinician_user, indication_code="M47.816")
    assert "not in the clinic&#x27;s list" not in html_of(
        client.get(reverse("procedures:order", args=[listed.pk]))
    )


def test_a_bad_code_shows_the_flag_with_the_field_error(client, clinician_user, own_patient):
    client.sign_in(clinician_user)
    response = client.post(f"{NEW}?patient={own_patient.pk}", body(indication_code="M54-16"))
    assert response.status_code == 400
    html = html_of(response)
    assert "Enter an ICD-10-CM code such as M54.16." in html
    assert "M54-16: not in the clinic&#x27;s list" in html
    assert not ProcedureOrder.objects.exists()


def test_ticked_and_typed_levels_are_both_read(client, clinician_user, own_patient):
    client.sign_in(clinician_user)
    path = f"{NEW}?patient={own_patient.pk}"
    assert client.post(path, body(levels=["L4-L5", "L5-S1"])).status_code == 302
    assert client.post(path, body(levels="l4-l5, L5-S1")).status_code == 302
    assert [o.levels for o in ProcedureOrder.objects.all()] == [["L4-L5", "L5-S1"]] * 2
    wrong = client.post(path, body(levels=["C5-C6"]))
    assert wrong.status_code == 400
    assert "Not a level for this procedure: C5-C6." in html_of(wrong)
    assert ProcedureOrder.objects.count() == 2


# --- A prefilled order ---------------------------------------------------------------------


def test_the_query_string_prefills_procedure_side_levels_and_the_earlier_indication(
    client, clinician_user, own_patient, other_patient
):
    block = order_of(own_patient, clinician_user)
    client.sign_in(clinician_user)
    rfa = procedure_type("rfa_ls")
    query = (
        f"?patient={own_patient.pk}&procedure=rfa_ls&side=left&levels=L4-L5&levels=L5-S1"
        f"&indication_from={block.pk}"
    )
    html = html_of(client.get(NEW + query))
    assert f'<option value="{rfa.pk}" selected>' in html
    assert '<option value="left" selected>' in html
    assert checked_levels(html) == ["L4-L5", "L5-S1"]
    assert 'value="Lumbar facet arthropathy"' in html
    # Another patient's order lends nothing.
    elsewhere = order_of(other_patient, clinician_user, indication_code="M54.16")
    other = html_of(client.get(f"{NEW}?patient={own_patient.pk}&indication_from={elsewhere.pk}"))
    assert code_value(other) is None and code_value(html) == "M47.816"


# --- The order's actions in their order ----------------------------------------------------


def primary_actions(html: str) -> list[str]:
    section = html[
        html.index('id="actions"') : html.index("</section>", html.index('id="actions"'))
    ]
    return re.findall(r'class="button primary"[^>]*>([^<]+)<', section)


def offered_answers(html: str) -> list[str]:
    """The payer's answers the order page's form offers."""
    select = re.search(r'<select name="auth_status"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r'<option value="(\w+)"', select.group(1)) if select else []


def order_page(client, order) -> str:
    response = client.get(reverse("procedures:order", args=[order.pk]))
    assert response.status_code == 200
    return html_of(response)


def test_the_primary_action_is_the_next_legal_move(client, clinician_user, own_patient):
    """Request authorization -> record the payer's answer -> authorize -> book -> record."""
    client.sign_in(clinician_user)
    order = order_of(own_patient, clinician_user)
    pending = order_page(client, order)
    assert primary_actions(pending) == ["Request prior authorization"]
    assert ">Authorize<" not in pending
    assert offered_answers(pending) == ["not_needed"]  # a payer may need none

    services.order_request_authorization(order=order, by=Actor.desk(clinician_user))
    requested = order_page(client, order)
    assert primary_actions(requested) == ["Save the payer's answer"]
    assert "Authorization requested" in requested and ">Authorize<" not in requested
    assert offered_answers(requested) == ["not_needed", "approved", "denied"]

    services.order_set_authorization(
        order=order,
        auth_status=AuthStatus.APPROVED,
        auth_number="PA-1",
        auth_expires=timezone.localdate() + timedelta(days=60),
        by=Actor.desk(clinician_user),
    )
    assert primary_actions(order_page(client, order)) == ["Authorize"]

    services.order_authorize(order=order, by=Actor.desk(clinician_user))
    assert primary_actions(order_page(client, order)) == ["Book this procedure"]

    services.order_schedule(
        order=order,
        planned_date=timezone.localdate() + timedelta(days=7),
        by=Actor.desk(clinician_user),
    )
    assert primary_actions(order_page(client, order)) == ["Record the procedure"]


def test_an_order_needing_no_authorization_starts_with_authorize(
    client, front_desk_user, clinician_user, own_patient
):
    order = order_of(own_patient, clinician_user, auth_status=AuthStatus.NOT_NEEDED)
    client.sign_in(front_desk_user)
    html = order_page(client, order)
    assert primary_actions(html) == ["Authorize"]
    assert "Cancel the order…" in html and 'class="button danger"' in html


def test_a_denied_authorization_is_requested_again(client, clinician_user, own_patient):
    order = order_of(own_patient, clinician_user, auth_status=AuthStatus.DENIED)
    client.sign_in(clinician_user)
    html = order_page(client, order)
    assert primary_actions(html) == ["Request prior authorization"]
    assert "send an appeal or a new request" in html
    assert offered_answers(html) == []  # no answer can be recorded before a request


# --- Cancelling asks for confirmation and a reason -----------------------------------------


def test_cancelling_asks_to_confirm_with_a_reason_and_keeps_it(
    client, front_desk_user, clinician_user, own_patient
):
    order = order_of(own_patient, clinician_user)
    cancel = reverse("procedures:order-cancel", args=[order.pk])
    client.sign_in(front_desk_user)
    confirm = client.get(cancel)
    assert confirm.status_code == 200
    assert "Cancel the order?" in html_of(confirm) and 'name="reason"' in html_of(confirm)
    assert ProcedureOrder.objects.get().status == OrderStatus.ORDERED  # a GET changes nothing

    empty = client.post(cancel, {"reason": "  "})
    assert empty.status_code == 400 and 'id="cancel_reason_error"' in html_of(empty)
    assert ProcedureOrder.objects.get().status == OrderStatus.ORDERED

    done = client.post(cancel, {"reason": "Patient chose physical therapy first"})
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "Patient chose physical therapy first"
    assert order.cancelled_by == front_desk_user
    # The write is in the order's audited history, with the reason.
    latest = order.events.select_related("pgh_context").order_by("pgh_id").last()
    assert latest.pgh_label == "change_to" and latest.status == OrderStatus.CANCELLED
    assert latest.cancel_reason == "Patient chose physical therapy first"
    assert latest.pgh_context.metadata["url"].endswith("/cancel/")

    again = client.get(cancel)
    assert "it cannot be cancelled" in html_of(again) and 'name="reason"' not in html_of(again)
    assert client.post(cancel, {"reason": "twice"}).status_code == 409


def test_a_booked_order_is_not_cancelled_behind_its_visit(client, clinician_user, own_patient):
    order = order_of(own_patient, clinician_user, auth_status=AuthStatus.NOT_NEEDED)
    services.order_authorize(order=order, by=Actor.desk(clinician_user))
    services.order_schedule(
        order=order,
        planned_date=timezone.localdate() + timedelta(days=3),
        by=Actor.desk(clinician_user),
    )
    client.sign_in(clinician_user)
    response = client.post(
        reverse("procedures:order-cancel", args=[order.pk]), {"reason": "No longer wanted"}
    )
    assert response.status_code == 409 and "cancel the visit first" in html_of(response)
    assert ProcedureOrder.objects.get().status == OrderStatus.SCHEDULED


@override_settings(DEBUG=True)
def test_with_debug_on_a_views_404_is_still_the_sites_page(client, clinician_user):
    client.sign_in(clinician_user)
    response = client.get(reverse("procedures:order", args=[uuid.uuid4()]))
    html = html_of(response)
    assert response.status_code == 404
    assert "There is nothing at this address." in html and "URLconf" not in html
