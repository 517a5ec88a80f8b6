"""Who sees what through FHIR, the audit rows reads and bookings leave, and errors as
OperationOutcomes (400, 401, 403, 404, 405)."""

import pytest
from rest_framework.test import APIClient

from clinic.audit.models import AuditEvent
from interop.tests.test_record import CHART_TYPES, search, valid

pytestmark = pytest.mark.django_db


def outcome(response, status: int) -> dict:
    """The OperationOutcome of an error answer, after checking its status and shape."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    body = valid(response.json())
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    return body


def test_a_patient_sees_only_their_own_record(fhir_as, patient_user, record, someone_else):
    client = fhir_as(patient_user)
    assert [p["id"] for p in search(client, "Patient")] == [str(record.patient.id)]
    for name in CHART_TYPES:
        found = search(client, name, patient=str(someone_else.patient.id))
        assert found == [], name
        own = search(client, name)
        patients = {
            (r.get("subject") or r.get("patient") or r["participant"][0]["actor"])["reference"]
            for r in own
        }
        assert patients == {f"Patient/{record.patient.id}"}, name
    for path in (
        f"Patient/{someone_else.patient.id}",
        f"Appointment/{someone_else.appointment.id}",
        f"Procedure/{someone_else.procedure.id}",
        f"AllergyIntolerance/{someone_else.allergy.id}",
        f"QuestionnaireResponse/{someone_else.intake.id}",
    ):
        body = outcome(client.get(f"/fhir/{path}"), 404)
        assert someone_else.patient.legal_last_name not in str(body)


def test_the_front_desk_sees_people_and_visits_but_no_clinical_resources(
    fhir_as, front_desk_user, record
):
    client = fhir_as(front_desk_user)
    assert search(client, "Patient")
    assert search(client, "Appointment")
    for name in CHART_TYPES[1:]:
        body = outcome(client.get(f"/fhir/{name}"), 403)
        assert body["issue"][0]["code"] == "forbidden"
    outcome(client.get(f"/fhir/Procedure/{record.procedure.id}"), 403)


def test_reads_leave_audit_rows_naming_the_patient(fhir_as, clinician_user, record):
    client = fhir_as(clinician_user)
    before = AuditEvent.objects.count()
    client.get(f"/fhir/Patient/{record.patient.id}")
    client.get("/fhir/Observation", {"patient": str(record.patient.id)})
    rows = list(AuditEvent.objects.order_by("at")[before:])
    assert [(row.action, row.channel, row.username) for row in rows] == [
        ("read", "api", clinician_user.username),
        ("read", "api", clinician_user.username),
    ]
    assert all(row.patients == [record.patient.id] for row in rows)
    assert rows[0].route == "fhir:patient-instance"


def test_a_directory_read_names_no_patient_and_leaves_no_row(fhir_as, clinician_user, record):
    before = AuditEvent.objects.count()
    assert search(fhir_as(clinician_user), "Practitioner")
    assert AuditEvent.objects.count() == before


def test_errors_are_operation_outcomes(fhir_as, clinician_user, record):
    client = fhir_as(clinician_user)
    assert outcome(client.get("/fhir/Patient/not-an-id"), 404)["issue"][0]["code"] == "not-found"
    outcome(client.get("/fhir/Medication"), 404)
    body = outcome(client.get("/fhir/Patient", {"_count": "0"}), 400)
    assert body["issue"][1]["expression"] == ["_count"]
    body = outcome(client.get("/fhir/Patient", {"colour": "blue"}), 400)
    assert body["issue"][1]["expression"] == ["colour"]
    outcome(client.get("/fhir/Appointment", {"date": "yesterday"}), 400)
    outcome(client.get("/fhir/Appointment", {"status": "sleeping"}), 400)
    outcome(client.get("/fhir/Patient", {"_include": "Patient:organization"}), 400)
    outcome(client.get("/fhir/Slot", {}), 400)
    assert outcome(client.post("/fhir/Patient", {}, format="json"), 405)
    assert outcome(client.delete(f"/fhir/Patient/{record.patient.id}"), 405)
    body = outcome(APIClient().get(f"/fhir/Patient/{record.patient.id}"), 401)
    assert body["issue"][0]["code"] == "login"


def test_metadata_is_a_capability_statement_anyone_may_read(record):
    response = APIClient().get("/fhir/metadata")
    statement = valid(response.json())
    assert statement["fhirVersion"] == "4.0.1"
    resources = {entry["type"]: entry for entry in statement["rest"][0]["resource"]}
    assert set(resources) >= {"Patient", "Appointment", "Slot", "Observation", "Condition"}
    appointment = resources["Appointment"]
    assert {"code": "create"} in appointment["interaction"]
    assert appointment["searchInclude"] == ["Appointment:patient"]
    assert {p["name"] for p in appointment["searchParam"]} >= {
        "patient",
        "practitioner",
        "date",
        "status",
    }


def test_a_signed_in_session_reads_as_a_token_does(client, clinician_user, record):
    client.sign_in(clinician_user)
    response = client.get(f"/fhir/Patient/{record.patient.id}")
    assert response.status_code == 200
    assert valid(response.json())["id"] == str(record.patient.id)
