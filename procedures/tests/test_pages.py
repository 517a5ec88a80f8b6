"""The procedures staff pages, driven through the test client: who sees what, the forms,
the state moves and their errors, recording a procedure and its follow-ups."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinic.users.actor import Actor
from patients import services as patient_services
from procedures import services
from procedures.models import (
    AuthStatus,
    OrderStatus,
    ProcedureOrder,
    ProcedureOutcome,
    ProcedureRecord,
    SafetyOverride,
)
from procedures.safety import DISCLAIMER
from procedures.tests.factories import ProcedureRecordFactory, procedure_type
from scheduling.tests.factories import LocationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

NEW_YORK = "America/New_York"
INFECTION_REASON = "Active infection is a contraindication to injections."


# --- Helpers ----------------------------------------------------------------------------------


def new_order(patient, by, **fields) -> ProcedureOrder:
    values = {
        "procedure_type": procedure_type("tfesi_ls"),
        "side": "left",
        "levels": ["L4-L5", "L5-S1"],
        "indication_code": "M54.16",
        "indication_text": "Lumbar radiculopathy",
        "auth_status": AuthStatus.NOT_NEEDED,
    } | fields
    return services.order_create(patient=patient, by=Actor.desk(by), **values)


def schedule(order, by, day=None) -> ProcedureOrder:
    services.order_authorize(order=order, by=Actor.desk(by))
    day = day or timezone.localdate() + timedelta(days=7)
    return services.order_schedule(order=order, planned_date=day, by=Actor.desk(by))


def add_condition(patient, by, kind):
    patient_services.clinical_entry_add(
        patient=patient, chart_list="condition", by=Actor.desk(by), kind=kind
    )


def url(name, *args):
    from django.urls import reverse

    return reverse(f"procedures:{name}", args=args)


def page(client, user, path, status=200):
    client.sign_in(user)
    response = client.get(path)
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def local_input(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def site():
    location = LocationFactory(time_zone=NEW_YORK)
    return location, ProviderFactory(locations=[location])


def record_body(site, **overrides) -> dict:
    location, provider = site
    body = {
        "location": str(location.pk),
        "performed_at": local_input(timezone.now() - timedelta(hours=2), NEW_YORK),
        "performer": str(provider.pk),
        "side": "left",
        "levels": "L4-L5, L5-S1",
        "guidance": "fluoroscopy",
        "steroid": "dexamethasone",
        "steroid_dose_mg": "10",
        "local_anaesthetic": "lidocaine 1% 2 mL",
        "contrast": "iohexol 2 mL",
        "pre_nrs": "8",
        "post_nrs": "3",
        "complications": "",
        "notes": "Uneventful.",
    }
    return body | overrides


# --- Access per role ----------------------------------------------------------------------------


@pytest.fixture
def pages(clinician_user, other_patient):
    order = new_order(other_patient, clinician_user)
    scheduled = schedule(new_order(other_patient, clinician_user), clinician_user)
    record = ProcedureRecordFactory(patient=other_patient)
    return {
        "list": url("orders"),
        "new": url("order-create") + f"?patient={other_patient.pk}",
        "order": url("order", order.pk),
        "record_form": url("record-create", scheduled.pk),
        "record": url("record", record.pk),
    }


EXPECTED = {
    # page: (front desk, clinician, manager, patient)
    "list": (200, 200, 200, 403),
    "new": (403, 200, 200, 403),
    "order": (200, 200, 200, 403),
    "record_form": (403, 200, 200, 403),
    "record": (403, 200, 200, 403),
}
ROLES = ("front_desk_user", "clinician_user", "manager_user", "patient_user")


@pytest.mark.parametrize("name", EXPECTED)
def test_each_page_answers_each_role(client, request, pages, name):
    for role, status in zip(ROLES, EXPECTED[name], strict=True):
        client.sign_in(request.getfixturevalue(role))
        response = client.get(pages[name])
        assert response.status_code == status, (name, role)
    client.logout()
    assert client.get(pages[name]).status_code == 302  # to the login page


def test_unknown_ids_are_404(client, clinician_user):
    client.sign_in(clinician_user)
    unknown = uuid.uuid4()
    for path in (
        url("order", unknown),
        url("record-create", unknown),
        url("record", unknown),
        url("order-create") + f"?patient={unknown}",
        url("orders") + f"?patient={unknown}",
    ):
        assert client.get(path).status_code == 404, path
    # Without a (readable) patient the form asks for one: never a technical 404 page.
    for path in (url("order-create") + "?patient=not-a-uuid", url("order-create")):
        chooser = client.get(path)
        assert chooser.status_code == 200 and "Choose the patient first" in chooser.content.decode()
    assert client.post(url("order-authorize", unknown)).status_code == 404


def test_a_patient_cannot_act_on_orders(client, patient_user, clinician_user, own_patient):
    order = new_order(own_patient, clinician_user)
    client.sign_in(patient_user)
    for name in ("order-authorize", "order-cancel", "order-override", "order-check"):
        assert client.post(url(name, order.pk), {"reason": "x"}).status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.ORDERED


# --- The list -----------------------------------------------------------------------------------


def test_the_list_shows_orders_with_filters_and_the_blocked_badge(
    client, front_desk_user, clinician_user, own_patient, other_patient
):
    add_condition(own_patient, clinician_user, "active_infection")
    blocked = new_order(own_patient, clinician_user, planned_date=timezone.localdate())
    other = schedule(
        new_order(
            other_patient,
            clinician_user,
            procedure_type=procedure_type("ilesi_ls"),
            side="",
            levels=["L5-S1"],
        ),
        clinician_user,
    )
    html = page(client, front_desk_user, url("orders"))
    assert "Transforaminal epidural steroid injection - lumbar/sacral" in html
    assert f"MRN {own_patient.mrn}" in html and f"MRN {other_patient.mrn}" in html
    assert "Left · L4-L5, L5-S1" in html
    assert html.count(">Blocked<") == 1
    assert INFECTION_REASON not in html

    scheduled_only = page(client, front_desk_user, url("orders") + "?status=scheduled")
    assert str(other.pk) in scheduled_only and str(blocked.pk) not in scheduled_only
    mine = page(client, front_desk_user, url("orders") + f"?patient={own_patient.pk}")
    assert str(blocked.pk) in mine and str(other.pk) not in mine
    assert "New order for" not in mine  # the front desk does not order
    assert "New order for" in page(
        client, clinician_user, url("orders") + f"?patient={own_patient.pk}"
    )
    assert client.get(url("orders") + "?status=bogus").status_code == 400


@pytest.mark.parametrize("count", [2, 12])
def test_the_list_runs_a_fixed_number_of_queries(
    client, front_desk_user, clinician_user, own_patient, django_assert_num_queries, count
):
    add_condition(own_patient, clinician_user, "active_infection")
    orders = [new_order(own_patient, clinician_user) for _ in range(count)]
    services.order_override(
        order=orders[0],
        finding_code="active_infection",
        reason="Treated",
        by=Actor.desk(clinician_user),
    )
    client.sign_in(front_desk_user)
    # session, user, the second factor's device, role groups, count, orders (+ patient, type,
    # ordering user), overrides, the users who overrode
    with django_assert_num_queries(9):
        response = client.get(url("orders"))
    assert response.status_code == 200
    assert response.content.decode().count(">Blocked<") == count - 1


# --- Creating an order ----------------------------------------------------------------------------


def order_form(**overrides) -> dict:
    body = {
        "procedure_type": str(procedure_type("tfesi_ls").pk),
        "side": "left",
        "levels": "l4-l5, L5-S1",
        "indication_code": "M54.16",
        "indication_text": "Lumbar radiculopathy",
        "urgency": "routine",
        "planned_date": str(timezone.localdate() + timedelta(days=14)),
        "auth_status": "pending",
        "auth_number": "",
        "auth_expires": "",
        "notes": "Discussed risks at length",
    }
    return body | overrides


def test_a_clinician_creates_an_order_through_the_form(client, clinician_user, own_patient):
    path = url("order-create") + f"?patient={own_patient.pk}"
    html = page(client, clinician_user, path)
    assert '<optgroup label="Lumbar sacral">' in html
    assert 'for="id_indication_code"' in html
    response = client.post(path, order_form())
    order = ProcedureOrder.objects.get()
    assert response.status_code == 302 and response.url == url("order", order.pk)
    assert order.patient == own_patient and order.ordered_by == clinician_user
    assert order.levels == ["L4-L5", "L5-S1"] and order.side == "left"
    assert order.auth_status == AuthStatus.PENDING and order.checked_at is not None


def test_a_bad_icd10_code_is_a_field_error_and_nothing_is_written(
    client, clinician_user, own_patient
):
    client.sign_in(clinician_user)
    path = url("order-create") + f"?patient={own_patient.pk}"
    response = client.post(path, order_form(indication_code="M54-16"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter an ICD-10-CM code such as M54.16." in html
    assert 'id="id_indication_code_error"' in html
    assert 'aria-describedby="id_indication_code_helptext id_indication_code_error"' in html
    assert 'value="M54-16"' in html  # what was typed stays
    assert not ProcedureOrder.objects.exists()


def test_other_bad_orders_are_field_errors(client, clinician_user, own_patient):
    client.sign_in(clinician_user)
    path = url("order-create") + f"?patient={own_patient.pk}"
    levels = client.post(path, order_form(levels="C5-C6"))
    assert (
        levels.status_code == 400
        and "Not a level for this procedure: C5-C6." in levels.content.decode()
    )
    approved = client.post(path, order_form(auth_status="approved"))
    assert approved.status_code == 400
    assert "An approved prior authorization needs its number and its expiry date." in (
        approved.content.decode()
    )
    no_type = client.post(path, order_form(procedure_type=str(uuid.uuid4())))
    assert no_type.status_code == 400 and "Select a valid choice" in no_type.content.decode()
    assert not ProcedureOrder.objects.exists()


# --- The order page -------------------------------------------------------------------------------


def test_the_front_desk_sees_no_findings_and_the_clinician_sees_them_with_the_disclaimer(
    client, front_desk_user, clinician_user, own_patient
):
    add_condition(own_patient, clinician_user, "active_infection")
    order = new_order(own_patient, clinician_user, notes="Discussed risks at length")
    desk = page(client, front_desk_user, url("order", order.pk))
    assert "Blocked: a clinician must review" in desk
    assert "Transforaminal epidural steroid injection" in desk and "L4-L5, L5-S1" in desk
    assert "30 minutes" in desk  # 25 for one level + 5 for the second
    for hidden in (
        INFECTION_REASON,
        DISCLAIMER,
        "Discussed risks",
        "Lumbar radiculopathy",
        "M54.16",
        "Safety check",
        "Override",
    ):
        assert hidden not in desk, hidden

    clinician = page(client, clinician_user, url("order", order.pk))
    assert INFECTION_REASON in clinician and DISCLAIMER in clinician
    assert "Source: The clinic&#x27;s pre-procedure requirements" in clinician
    assert "intake.md" not in clinician
    assert "Discussed risks at length" in clinician and "M54.16" in clinician
    assert "Run the check again" in clinician and ">Override<" in clinician


def test_a_clinician_overrides_a_block_through_the_page(
    client, front_desk_user, clinician_user, own_patient
):
    add_condition(own_patient, clinician_user, "active_infection")
    order = new_order(own_patient, clinician_user)
    client.sign_in(front_desk_user)
    body = {"finding_code": "active_infection", "reason": "Treated; cleared by ID"}
    assert client.post(url("order-override", order.pk), body).status_code == 403

    client.sign_in(clinician_user)
    missing = client.post(url("order-override", order.pk), body | {"reason": ""})
    assert missing.status_code == 400 and "This field is required." in missing.content.decode()
    # The page opens on the reason with its error, however far down the finding is.
    (reason,) = re.findall(r'<textarea[^>]*id="override[^>]*>', missing.content.decode())
    assert "autofocus" in reason and 'aria-invalid="true"' in reason
    unknown = client.post(url("order-override", order.pk), body | {"finding_code": "nope"})
    assert unknown.status_code == 400
    assert not SafetyOverride.objects.exists()

    done = client.post(url("order-override", order.pk), body)
    assert done.status_code == 302
    override = SafetyOverride.objects.get()
    assert override.overridden_by == clinician_user and override.reason.startswith("Treated")
    html = page(client, clinician_user, url("order", order.pk))
    assert "Overridden by" in html and "Treated; cleared by ID" in html
    assert "a clinician must review" not in page(client, front_desk_user, url("order", order.pk))
    client.sign_in(clinician_user)
    again = client.post(url("order-override", order.pk), body)
    assert again.status_code == 409 and "already overridden" in again.content.decode()
    assert SafetyOverride.objects.count() == 1


def test_running_the_check_again_picks_up_a_chart_change(client, clinician_user, own_patient):
    order = new_order(own_patient, clinician_user)
    assert INFECTION_REASON not in page(client, clinician_user, url("order", order.pk))
    add_condition(own_patient, clinician_user, "active_infection")
    assert client.post(url("order-check", order.pk)).status_code == 302
    assert INFECTION_REASON in page(client, clinician_user, url("order", order.pk))


def test_authorize_and_cancel_through_the_page_and_illegal_moves_are_409(
    client, front_desk_user, clinician_user, own_patient
):
    order = new_order(own_patient, clinician_user, auth_status=AuthStatus.PENDING)
    client.sign_in(front_desk_user)
    refused = client.post(url("order-authorize", order.pk))
    assert refused.status_code == 409
    assert "Prior authorization is not approved" in refused.content.decode()

    expires = str(timezone.localdate() + timedelta(days=60))
    unasked = client.post(
        url("order-authorization", order.pk),
        {"auth_status": "approved", "auth_number": "PA-123", "auth_expires": expires},
    )
    assert unasked.status_code == 409
    assert "request it from the payer first" in unasked.content.decode()
    assert client.post(url("order-request-authorization", order.pk)).status_code == 302
    order.refresh_from_db()
    assert order.auth_status == AuthStatus.REQUESTED
    assert order.auth_requested_by == front_desk_user and order.auth_requested_at is not None
    again_asked = client.post(url("order-request-authorization", order.pk))
    assert again_asked.status_code == 409 and "already requested" in again_asked.content.decode()
    incomplete = client.post(url("order-authorization", order.pk), {"auth_status": "approved"})
    assert incomplete.status_code == 400
    assert "needs its number and its expiry date" in incomplete.content.decode()
    saved = client.post(
        url("order-authorization", order.pk),
        {"auth_status": "approved", "auth_number": "PA-123", "auth_expires": expires},
    )
    assert saved.status_code == 302
    assert client.post(url("order-authorize", order.pk)).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.AUTHORIZED and order.auth_number == "PA-123"

    again = client.post(url("order-authorize", order.pk))
    assert again.status_code == 409
    assert "An order that is authorized cannot become authorized." in again.content.decode()

    no_reason = client.post(url("order-cancel", order.pk), {"reason": " "})
    assert no_reason.status_code == 400
    cancelled = client.post(url("order-cancel", order.pk), {"reason": "Patient moved away"})
    assert cancelled.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.cancelled_by == front_desk_user
    assert client.post(url("order-cancel", order.pk), {"reason": "twice"}).status_code == 409
    late = client.post(url("order-authorization", order.pk), {"auth_status": "denied"})
    assert late.status_code == 409
    html = page(client, front_desk_user, url("order", order.pk))
    assert "Patient moved away" not in html  # the reason is clinical detail
    assert "Patient moved away" in page(client, clinician_user, url("order", order.pk))


@pytest.mark.parametrize("role", ["front_desk_user", "clinician_user"])
def test_the_order_page_runs_a_fixed_number_of_queries(
    client, request, clinician_user, own_patient, other_patient, django_assert_num_queries, role
):
    few = new_order(other_patient, clinician_user)
    add_condition(own_patient, clinician_user, "active_infection")
    add_condition(own_patient, clinician_user, "pregnancy")
    many = new_order(own_patient, clinician_user)
    assert len(many.findings) >= 2
    for order, code in ((few, None), (many, "active_infection")):
        if code:
            services.order_override(
                order=order, finding_code=code, reason="ok", by=Actor.desk(clinician_user)
            )
    client.sign_in(request.getfixturevalue(role))
    # session, user, the second factor's device, role groups, order (+ patient, type, users),
    # overrides, overriding users (none to fetch when there is no override)
    with django_assert_num_queries(7):
        assert client.get(url("order", few.pk)).status_code == 200
    with django_assert_num_queries(8):
        assert client.get(url("order", many.pk)).status_code == 200


# --- Recording the procedure and its follow-ups ------------------------------------------------


def test_recording_through_the_page_makes_the_order_performed(
    client, front_desk_user, clinician_user, own_patient, site
):
    order = schedule(new_order(own_patient, clinician_user), clinician_user)
    html = page(client, clinician_user, url("record-create", order.pk))
    assert 'value="L4-L5" id="id_levels_' in html and 'type="datetime-local"' in html
    assert "Record the procedure" in page(client, clinician_user, url("order", order.pk))

    performed = timezone.now() - timedelta(hours=2)
    response = client.post(url("record-create", order.pk), record_body(site))
    record = ProcedureRecord.objects.get()
    assert response.status_code == 302 and response.url == url("record", record.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.PERFORMED and record.order == order
    assert record.levels == ["L4-L5", "L5-S1"] and record.steroid_id == "dexamethasone"
    assert abs(record.performed_at - performed.replace(second=0, microsecond=0)) < timedelta(
        minutes=1
    )
    assert record.recorded_by == clinician_user

    shown = page(client, clinician_user, url("record", record.pk))
    assert "Dexamethasone 10 mg" in shown and "lidocaine 1% 2 mL" in shown
    assert "NRS 8" in shown and "No follow-up yet." in shown
    assert "Open the procedure record" in page(client, clinician_user, url("order", order.pk))

    # Performed once: the form sends you back, a second post is a conflict.
    assert client.get(url("record-create", order.pk)).status_code == 302
    twice = client.post(url("record-create", order.pk), record_body(site))
    assert twice.status_code == 409 and ProcedureRecord.objects.count() == 1


def test_a_nonexistent_local_time_is_a_field_error(client, clinician_user, own_patient, site):
    order = schedule(new_order(own_patient, clinician_user), clinician_user)
    client.sign_in(clinician_user)
    response = client.post(
        url("record-create", order.pk), record_body(site, performed_at="2026-03-08T02:30")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "2026-03-08 02:30 does not exist in America/New_York" in html
    assert 'id="id_performed_at_error"' in html
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED and not ProcedureRecord.objects.exists()


def test_a_repeated_local_time_is_its_first_occurrence(client, clinician_user, own_patient, site):
    order = schedule(new_order(own_patient, clinician_user), clinician_user)
    client.sign_in(clinician_user)
    response = client.post(
        url("record-create", order.pk), record_body(site, performed_at="2025-11-02T01:30")
    )
    assert response.status_code == 302
    assert ProcedureRecord.objects.get().performed_at == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


def test_record_form_errors(client, clinician_user, own_patient, site):
    order = schedule(new_order(own_patient, clinician_user), clinician_user)
    client.sign_in(clinician_user)
    path = url("record-create", order.pk)
    no_dose = client.post(path, record_body(site, steroid_dose_mg=""))
    assert no_dose.status_code == 400 and "Give the steroid dose in mg" in no_dose.content.decode()
    too_much = client.post(path, record_body(site, steroid_dose_mg="20"))
    assert too_much.status_code == 400 and "per-session maximum" in too_much.content.decode()
    future = local_input(timezone.now() + timedelta(days=1), NEW_YORK)
    later = client.post(path, record_body(site, performed_at=future))
    assert later.status_code == 400 and "before it happens" in later.content.decode()
    pain = client.post(path, record_body(site, pre_nrs="11"))
    assert pain.status_code == 400 and "less than or equal to 10" in pain.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED and not ProcedureRecord.objects.exists()


def test_adding_a_follow_up_shows_the_percent_relief(client, clinician_user, front_desk_user):
    record = ProcedureRecordFactory(pre_nrs=8)
    client.sign_in(clinician_user)
    added = client.post(url("outcome-add", record.pk), {"nrs": "2"})
    assert added.status_code == 302
    client.post(url("outcome-add", record.pk), {"nrs": "5", "pgic": "3"})
    html = page(client, clinician_user, url("record", record.pk))
    assert "75.0%" in html and "37.5%" in html
    assert "<strong>Best relief:</strong> 75.0%" in html
    bad = client.post(url("outcome-add", record.pk), {"nrs": "11"})
    assert bad.status_code == 400 and "less than or equal to 10" in bad.content.decode()
    early = client.post(
        url("outcome-add", record.pk), {"nrs": "3", "measured_at": "2020-01-01T09:00"}
    )
    assert early.status_code == 400 and "cannot be before the procedure" in early.content.decode()
    assert ProcedureOutcome.objects.count() == 2
    client.sign_in(front_desk_user)
    assert client.post(url("outcome-add", record.pk), {"nrs": "1"}).status_code == 403


def test_the_order_page_says_until_when_and_what_to_do(client, clinician_user, own_patient):
    add_condition(own_patient, clinician_user, "active_infection")
    order = new_order(own_patient, clinician_user)
    html = page(client, clinician_user, url("order", order.pk))
    reason = html.index(INFECTION_REASON)
    until = html.index("Until the infection is treated and its entry on the chart is closed")
    action = html.index("What to do: Treat the infection and postpone the procedure")
    assert reason < until < action < html.index("Source:", reason)
