"""Orders through the API: who may do what, the state machine, records and outcomes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.users.actor import Actor
from patients import services as patient_services
from procedures import services
from procedures.models import OrderStatus, ProcedureOrder, ProcedureType, SafetyThreshold
from scheduling.tests.factories import LocationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

NEW_ORDER = {
    "procedure_type": "tfesi_ls",
    "side": "left",
    "levels": ["L4-L5", "L5-S1"],
    "indication_code": "M54.16",
    "indication_text": "Lumbar radiculopathy",
    "auth_status": "not_needed",
}


@pytest.fixture
def order_for(api_as, clinician_user):
    def create(patient, **overrides):
        response = api_as(clinician_user).post(
            "/api/v1/procedure-orders/", {**NEW_ORDER, "patient": str(patient.id), **overrides}
        )
        assert response.status_code == 201, response.json()
        return response.json()

    return create


def test_a_clinician_orders_and_the_check_runs(order_for, own_patient):
    order = order_for(own_patient, planned_date=str(timezone.localdate() + timedelta(days=10)))
    assert order["status"] == "ordered"
    assert order["checked_at"]
    assert all({"code", "severity", "reason", "source"} <= set(f) for f in order["findings"])


def test_bad_orders_are_field_errors(api_as, clinician_user, own_patient):
    client = api_as(clinician_user)
    url = "/api/v1/procedure-orders/"
    body = {**NEW_ORDER, "patient": str(own_patient.id)}
    bad_code = client.post(url, body | {"indication_code": "back pain"})
    assert bad_code.status_code == 400 and "indication_code" in bad_code.json()["fields"]
    bad_level = client.post(url, body | {"levels": ["C5-C6"]})
    assert bad_level.status_code == 400 and "levels" in bad_level.json()["fields"]
    no_type = client.post(url, body | {"procedure_type": "levitation"})
    assert no_type.status_code == 400 and "procedure_type" in no_type.json()["fields"]
    approved_without_number = client.post(url, body | {"auth_status": "approved"})
    assert approved_without_number.status_code == 400
    assert not ProcedureOrder.objects.exists()


def test_only_clinicians_order(api_as, front_desk_user, patient_user, own_patient):
    body = {**NEW_ORDER, "patient": str(own_patient.id)}
    assert api_as(front_desk_user).post("/api/v1/procedure-orders/", body).status_code == 403
    assert api_as(patient_user).post("/api/v1/procedure-orders/", body).status_code == 403


def test_state_moves_and_illegal_ones_are_409(
    api_as, clinician_user, front_desk_user, order_for, own_patient
):
    order = order_for(own_patient, auth_status="pending")
    desk = api_as(front_desk_user)
    base = f"/api/v1/procedure-orders/{order['id']}/"
    refused = desk.post(base + "authorize/")
    assert refused.status_code == 409 and refused.json()["code"] == "authorization_missing"
    expires = str(timezone.localdate() + timedelta(days=60))
    approval = {"auth_status": "approved", "auth_number": "PA-123", "auth_expires": expires}
    unasked = desk.post(base + "authorization/", approval)
    assert unasked.status_code == 409
    assert unasked.json()["code"] == "illegal_authorization_move"
    assert "request it from the payer first" in unasked.json()["detail"]
    asked = desk.post(base + "request-authorization/")
    assert asked.status_code == 200 and asked.json()["auth_status"] == "requested"
    assert asked.json()["auth_requested_by"] == front_desk_user.username
    assert asked.json()["auth_requested_at"]
    twice = desk.post(base + "request-authorization/")
    assert twice.status_code == 409 and "already requested" in twice.json()["detail"]
    bad = desk.post(base + "authorization/", {"auth_status": "maybe"})
    assert bad.status_code == 400 and "auth_status" in bad.json()["fields"]
    assert desk.post(base + "authorize/").json()["code"] == "authorization_missing"
    auth = desk.post(base + "authorization/", approval)
    assert auth.status_code == 200 and auth.json()["auth_status"] == "approved"
    assert desk.post(base + "authorize/").json()["status"] == "authorized"
    again = desk.post(base + "authorize/")
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    cancelled = desk.post(base + "cancel/", {"reason": "Patient moved away"})
    assert cancelled.json()["status"] == "cancelled"
    assert desk.post(base + "cancel/", {"reason": "twice"}).status_code == 409
    assert desk.post(base + "authorization/", {"auth_status": "denied"}).status_code == 409


def test_scheduling_is_stopped_by_a_block_until_a_clinician_overrides(clinician_user, own_patient):
    services_add = patient_services.clinical_entry_add
    services_add(
        patient=own_patient,
        chart_list="condition",
        by=Actor.desk(clinician_user),
        kind="active_infection",
    )
    order = services.order_create(
        patient=own_patient,
        procedure_type=ProcedureType.objects.get(code="tfesi_ls"),
        by=Actor.desk(clinician_user),
        side="left",
        levels=["L5-S1"],
        indication_code="M54.16",
        indication_text="Radiculopathy",
        auth_status="not_needed",
    )
    services.order_authorize(order=order, by=Actor.desk(clinician_user))
    planned = timezone.localdate() + timedelta(days=7)
    with pytest.raises(services.Conflict) as caught:
        services.order_schedule(order=order, planned_date=planned, by=Actor.desk(clinician_user))
    assert caught.value.code == "safety_block"
    assert [f["code"] for f in caught.value.extra["findings"]] == ["active_infection"]
    order.refresh_from_db()
    assert order.status == OrderStatus.AUTHORIZED
    services.order_override(
        order=order,
        finding_code="active_infection",
        reason="Infection treated; cleared by ID",
        by=Actor.desk(clinician_user),
    )
    services.order_schedule(order=order, planned_date=planned, by=Actor.desk(clinician_user))
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED
    override = order.overrides.get()
    assert override.overridden_by == clinician_user and override.reason.startswith("Infection")


def test_overrides_are_for_clinicians_and_real_blocks(
    api_as, front_desk_user, clinician_user, order_for, own_patient
):
    order = order_for(own_patient)
    url = f"/api/v1/procedure-orders/{order['id']}/override/"
    assert (
        api_as(front_desk_user).post(url, {"finding_code": "x", "reason": "y"}).status_code == 403
    )
    response = api_as(clinician_user).post(
        url, {"finding_code": "not_a_block", "reason": "because"}
    )
    assert response.status_code == 400 and "finding_code" in response.json()["fields"]


def test_front_desk_sees_orders_without_clinical_details(
    api_as, front_desk_user, order_for, own_patient
):
    order = order_for(own_patient, notes="Discussed risks at length")
    seen = api_as(front_desk_user).get(f"/api/v1/procedure-orders/{order['id']}/").json()
    assert "notes" not in seen and "findings" not in seen and "indication_text" not in seen
    assert seen["procedure_name"].startswith("Transforaminal")
    assert seen["minutes"] == 25 + 5  # two levels
    assert seen["blocked"] is False


def test_a_patient_sees_only_their_scheduled_procedures_by_name(
    api_as, patient_user, clinician_user, order_for, own_patient, other_patient
):
    mine = order_for(own_patient)
    order_for(other_patient)
    client = api_as(patient_user)
    assert client.get("/api/v1/procedure-orders/").json()["count"] == 0  # not scheduled yet
    order = ProcedureOrder.objects.get(pk=mine["id"])
    services.order_authorize(order=order, by=Actor.desk(clinician_user))
    services.order_schedule(
        order=order,
        planned_date=timezone.localdate() + timedelta(days=5),
        by=Actor.desk(clinician_user),
    )
    listed = client.get("/api/v1/procedure-orders/").json()["results"]
    assert len(listed) == 1
    assert set(listed[0]) == {"id", "procedure_name", "planned_date", "preparation"}
    other = ProcedureOrder.objects.exclude(pk=mine["id"]).get()
    assert client.get(f"/api/v1/procedure-orders/{other.id}/").status_code == 404
    assert client.get("/api/v1/procedure-records/").status_code == 403


@pytest.mark.date_sensitive
def test_recording_completes_the_order_and_outcomes_give_relief(
    api_as, clinician_user, order_for, own_patient
):
    order = ProcedureOrder.objects.get(pk=order_for(own_patient)["id"])
    services.order_authorize(order=order, by=Actor.desk(clinician_user))
    services.order_schedule(
        order=order, planned_date=timezone.localdate(), by=Actor.desk(clinician_user)
    )
    client = api_as(clinician_user)
    performed = timezone.now() - timedelta(hours=2)
    body = {
        "order": str(order.id),
        "performed_at": performed.isoformat(),
        "performer": str(ProviderFactory().id),
        "location": str(LocationFactory().id),
        "side": "left",
        "levels": ["L4-L5", "L5-S1"],
        "guidance": "fluoroscopy",
        "steroid": "dexamethasone",
        "steroid_dose_mg": "10",
        "local_anaesthetic": "lidocaine 1% 2 mL",
        "contrast": "iohexol 2 mL",
        "pre_nrs": 8,
        "post_nrs": 3,
    }
    response = client.post("/api/v1/procedure-records/", body)
    assert response.status_code == 201, response.json()
    record = response.json()
    order.refresh_from_db()
    assert order.status == OrderStatus.PERFORMED
    assert client.post("/api/v1/procedure-records/", body).status_code == 409, (
        "an order is performed once"
    )

    outcome = client.post(
        f"/api/v1/procedure-records/{record['id']}/outcomes/",
        {"nrs": 2, "measured_at": timezone.now().isoformat()},
    )
    assert outcome.status_code == 201 and outcome.json()["percent_relief"] == "75.0"
    client.post(
        f"/api/v1/procedure-records/{record['id']}/outcomes/",
        {"nrs": 5, "measured_at": timezone.now().isoformat()},
    )
    again = client.get(f"/api/v1/procedure-records/{record['id']}/").json()
    assert again["best_relief_percent"] == "75.0" and len(again["outcomes"]) == 2
    bad = client.post(f"/api/v1/procedure-records/{record['id']}/outcomes/", {"nrs": 11})
    assert bad.status_code == 400 and "nrs" in bad.json()["fields"]


def test_a_steroid_dose_above_the_session_maximum_is_refused(api_as, clinician_user, own_patient):
    body = {
        "patient": str(own_patient.id),
        "procedure_type": "ilesi_ls",
        "performed_at": timezone.now().isoformat(),
        "performer": str(ProviderFactory().id),
        "location": str(LocationFactory().id),
        "levels": ["L4-L5"],
        "guidance": "fluoroscopy",
        "steroid": "triamcinolone",
        "steroid_dose_mg": "120",
        "pre_nrs": 7,
        "post_nrs": 4,
    }
    response = api_as(clinician_user).post("/api/v1/procedure-records/", body)
    assert response.status_code == 400
    assert "steroid_dose_mg" in response.json()["fields"]


def test_safety_check_endpoint_says_it_supports_judgement(
    api_as, clinician_user, front_desk_user, own_patient
):
    body = {
        "patient": str(own_patient.id),
        "procedure_type": "scs_trial",
        "planned_date": str(timezone.localdate() + timedelta(days=3)),
    }
    response = api_as(clinician_user).post("/api/v1/safety-check/", body)
    assert response.status_code == 200
    assert (
        "does not replace" in response.json()["disclaimer"]
        or "do not replace" in response.json()["disclaimer"]
    )
    assert any(f["code"] == "sedation" for f in response.json()["findings"])
    assert api_as(front_desk_user).post("/api/v1/safety-check/", body).status_code == 403


def test_the_catalog_is_for_staff(api_as, front_desk_user, patient_user):
    listed = api_as(front_desk_user).get("/api/v1/procedure-types/", {"page_size": 100}).json()
    assert listed["count"] == ProcedureType.objects.count() == 31
    one = api_as(front_desk_user).get("/api/v1/procedure-types/rfa_ls/").json()
    assert one["bleeding_risk"] == "low" and one["room_kind"] == "fluoroscopy_suite"
    assert api_as(patient_user).get("/api/v1/procedure-types/").status_code == 403


def test_a_managers_threshold_edit_changes_a_recheck(api_as, clinician_user, own_patient):
    """Three sessions are on record; the limit of 4 allows a fourth, a limit of 3 blocks it."""
    lumbar_esi = ProcedureType.objects.get(code="ilesi_ls")
    provider, location = ProviderFactory(), LocationFactory()
    for days_ago in (200, 120, 40):
        services.record_create(
            by=Actor.desk(clinician_user),
            patient=own_patient,
            procedure_type=lumbar_esi,
            performed_at=timezone.now() - timedelta(days=days_ago),
            performer=provider,
            location=location,
            levels=["L4-L5"],
            guidance="fluoroscopy",
            pre_nrs=7,
            post_nrs=3,
        )
    order = ProcedureOrder.objects.get(pk=order_body(api_as, clinician_user, own_patient)["id"])
    codes = {f["code"] for f in order.findings}
    assert "session_limit:esi_max_sessions" not in codes
    SafetyThreshold.objects.filter(key="esi_max_sessions").update(value=3)
    rechecked = api_as(clinician_user).post(f"/api/v1/procedure-orders/{order.id}/check/").json()
    blocks = [f for f in rechecked["findings"] if f["severity"] == "block"]
    assert [f["code"] for f in blocks] == ["session_limit:esi_max_sessions"]
    assert "the limit is 3" in blocks[0]["reason"]


def order_body(api_as, clinician_user, patient):
    response = api_as(clinician_user).post(
        "/api/v1/procedure-orders/",
        {
            **NEW_ORDER,
            "procedure_type": "ilesi_ls",
            "levels": ["L4-L5"],
            "side": "",
            "patient": str(patient.id),
            "planned_date": str(timezone.localdate() + timedelta(days=20)),
        },
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_cervical_transforaminal_takes_a_non_particulate_steroid_only(
    api_as, clinician_user, own_patient
):
    body = {
        "patient": str(own_patient.id),
        "procedure_type": "tfesi_ct",
        "performed_at": timezone.now().isoformat(),
        "performer": str(ProviderFactory().id),
        "location": str(LocationFactory().id),
        "levels": ["C5-C6"],
        "side": "right",
        "guidance": "fluoroscopy",
        "steroid": "triamcinolone",
        "steroid_dose_mg": "40",
        "pre_nrs": 7,
        "post_nrs": 4,
    }
    client = api_as(clinician_user)
    refused = client.post("/api/v1/procedure-records/", body)
    assert refused.status_code == 400 and "steroid" in refused.json()["fields"]
    allowed = client.post(
        "/api/v1/procedure-records/", body | {"steroid": "dexamethasone", "steroid_dose_mg": "10"}
    )
    assert allowed.status_code == 201
