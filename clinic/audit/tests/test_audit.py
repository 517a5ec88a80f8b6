"""The audit trail: reads and writes of patients' data recorded, append-only, and searchable
by managers."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import InternalError, connection, transaction
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.audit.selectors import audit_event_changes
from patients.models import Allergy, Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rosa(db) -> Patient:
    return PatientFactory(legal_first_name="Rosa", legal_last_name="Quintana", phone="+13035550111")


def rows_naming(patient: Patient):
    return AuditEvent.objects.filter(patients__contains=[patient.pk]).order_by("at")


# --- Reads --------------------------------------------------------------------------------------


def test_an_api_read_names_who_whose_what_where_and_how(api_as, front_desk_user, rosa):
    response = api_as(front_desk_user).get(
        f"/api/v1/patients/{rosa.pk}/", REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 200
    [row] = rows_naming(rosa)
    assert (row.user, row.username, row.role, row.channel) == (
        front_desk_user,
        "desk1",
        "front_desk",
        "api",
    )
    assert (row.action, row.method, row.route, row.status) == ("read", "GET", "api-patient", 200)
    assert row.path == f"/api/v1/patients/{rosa.pk}/"
    assert row.address == "203.0.113.9"
    assert timezone.now() - row.at < timedelta(minutes=1)


def test_a_search_names_every_patient_it_lists(client, front_desk_user, rosa):
    other = PatientFactory(legal_first_name="Rosalind", legal_last_name="Quintero")
    PatientFactory(legal_first_name="Walter", legal_last_name="Unrelated")
    client.sign_in(front_desk_user)
    response = client.post("/patients/", {"q": "Quint"})
    assert response.status_code == 200 and "Quintana" in response.text
    [row] = AuditEvent.objects.filter(route="patients:list")
    assert set(row.patients) == {rosa.pk, other.pk}
    assert row.action == "write"  # a POST; it changed nothing, and pghistory has no event for it


def test_a_refused_request_names_nobody(client, patient_user, rosa):
    client.sign_in(patient_user)
    assert client.get(f"/patients/{rosa.pk}/").status_code == 403
    assert not rows_naming(rosa).exists()


def test_a_read_is_one_insert(api_as, clinician_user, rosa):
    api = api_as(clinician_user)
    api.get(f"/api/v1/patients/{rosa.pk}/allergies/")  # warm the role
    before = AuditEvent.objects.count()
    api.get(f"/api/v1/patients/{rosa.pk}/allergies/")
    assert AuditEvent.objects.count() == before + 1


# --- Writes -------------------------------------------------------------------------------------


def test_a_write_keeps_before_and_after_under_the_requests_row(api_as, clinician_user, rosa):
    api = api_as(clinician_user)
    created = api.post(
        f"/api/v1/patients/{rosa.pk}/allergies/",
        {"substance": "Iodinated contrast", "severity": "moderate"},
        format="json",
    )
    assert created.status_code == 201, created.content
    allergy = Allergy.objects.get(patient=rosa)
    changed = api.patch(f"/api/v1/patients/{rosa.pk}/", {"preferred_name": "Rosie"}, format="json")
    assert changed.status_code == 200, changed.content

    insert_row = rows_naming(rosa).filter(method="POST").get()
    [insert] = audit_event_changes(insert_row)
    assert insert["model"] == "patients.AllergyEvent" and insert["label"] == "insert"
    assert insert["object"] == str(allergy.pk)
    assert insert["data"]["substance"] == "Iodinated contrast"

    patch_row = rows_naming(rosa).filter(method="PATCH").get()
    changes = {c["label"]: c for c in audit_event_changes(patch_row)}
    assert changes["change_from"]["data"]["preferred_name"] == ""
    assert changes["change_to"]["data"]["preferred_name"] == "Rosie"
    assert patch_row.user == clinician_user and patch_row.channel == "api"


def test_a_write_outside_any_request_is_still_kept(rosa):
    Patient.objects.filter(pk=rosa.pk).update(preferred_name="Ro")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pgh_label, preferred_name FROM patients_patientevent WHERE pgh_obj_id = %s "
            "ORDER BY pgh_id",
            [rosa.pk],
        )
        assert cursor.fetchall() == [("insert", ""), ("change_from", ""), ("change_to", "Ro")]


# --- Append-only --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET username = 'someone-else'",
        "DELETE FROM audit_auditevent",
        "UPDATE patients_patientevent SET legal_last_name = 'Changed'",
        "DELETE FROM patients_patientevent",
    ],
)
def test_the_audit_tables_refuse_update_and_delete(api_as, front_desk_user, rosa, statement):
    api_as(front_desk_user).get(f"/api/v1/patients/{rosa.pk}/")
    assert AuditEvent.objects.exists()
    refused = pytest.raises(InternalError, match="Cannot update or delete rows")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.filter(username="desk1").exists()


# --- The manager's audit log --------------------------------------------------------------------


def test_managers_search_by_patient_user_action_and_date(
    client, api_as, manager_user, front_desk_user, clinician_user, rosa
):
    other = PatientFactory(legal_last_name="Elsewhere")
    api_as(front_desk_user).get(f"/api/v1/patients/{rosa.pk}/")
    api_as(clinician_user).get(f"/api/v1/patients/{other.pk}/")
    client.sign_in(manager_user)

    by_patient = client.get("/manage/audit/", {"mrn": rosa.mrn})
    assert by_patient.status_code == 200
    assert "Quintana" in by_patient.text and "desk1" in by_patient.text
    assert "doc1" not in by_patient.text

    by_user = client.get("/manage/audit/", {"user": "DOC1"}).text
    assert "Elsewhere" in by_user and "Quintana" not in by_user
    assert "Quintana" not in client.get("/manage/audit/", {"action": "write", "mrn": rosa.mrn}).text
    today = timezone.localdate()
    assert "desk1" in client.get("/manage/audit/", {"start": today, "end": today}).text
    later = client.get("/manage/audit/", {"start": today + timedelta(days=1)})
    assert "No audit row matches" in later.text
    unknown = client.get("/manage/audit/", {"mrn": "99999999"})
    assert "No audit row matches" in unknown.text


def test_a_bad_search_is_a_400_naming_the_field(client, manager_user):
    client.sign_in(manager_user)
    response = client.get(
        "/manage/audit/", {"mrn": "12ab", "start": "2026-02-01", "end": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "An MRN is 8 digits." in response.text
    assert "The end date is before the start date." in response.text


def test_the_export_is_csv_of_the_search(client, api_as, manager_user, front_desk_user, rosa):
    api_as(front_desk_user).get(f"/api/v1/patients/{rosa.pk}/")
    client.sign_in(manager_user)
    response = client.get("/manage/audit/export.csv", {"mrn": rosa.mrn})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["username"], r["action"], r["patients"]) for r in rows] == [
        ("desk1", "read", str(rosa.pk))
    ]


def test_the_row_page_shows_what_a_write_changed(
    client, api_as, manager_user, clinician_user, rosa
):
    api_as(clinician_user).patch(
        f"/api/v1/patients/{rosa.pk}/", {"preferred_name": "Rosie"}, format="json"
    )
    row = rows_naming(rosa).filter(method="PATCH").get()
    client.sign_in(manager_user)
    page = client.get(f"/manage/audit/{row.pk}/")
    assert page.status_code == 200
    assert (
        "patients.PatientEvent" in page.text and "change_to" in page.text and "Rosie" in page.text
    )


@pytest.mark.parametrize("role", ["front_desk_user", "clinician_user", "patient_user"])
def test_only_managers_see_the_audit(client, request, role):
    client.sign_in(request.getfixturevalue(role))
    assert client.get("/manage/audit/").status_code == 403
    assert client.get("/manage/audit/export.csv").status_code == 403


def test_the_old_access_log_address_leads_to_the_audit(client, manager_user):
    client.sign_in(manager_user)
    response = client.get("/history/access-log/?mrn=12345678")
    assert response.status_code == 302 and response["Location"] == "/manage/audit/?mrn=12345678"
