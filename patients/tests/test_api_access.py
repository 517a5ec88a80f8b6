"""Each role's access to each patients endpoint. Out of scope is a 404 with no data."""

import pytest

from clinic.core.errors import Forbidden
from clinic.users.actor import Actor
from patients import services
from patients.tests.conftest import intake_answers

pytestmark = pytest.mark.django_db

NOT_FOUND = {"code": "not_found", "detail": "Not found.", "fields": {}}
LISTS = ["allergies", "medications", "conditions", "devices", "assessments"]
NEW_ENTRY = {
    "allergies": {"substance": "Latex", "procedure_class": "latex"},
    "medications": {"name": "Gabapentin", "drug_class": "gabapentinoid", "dose": "300 mg"},
    "conditions": {"kind": "bleeding_disorder", "description": "von Willebrand"},
    "devices": {"kind": "spinal_cord_stimulator", "manufacturer": "Acme"},
    "assessments": {"instrument": "nrs", "body_region": "neck", "items": {"score": 4}},
}


@pytest.fixture
def users(front_desk_user, clinician_user, manager_user, patient_user):
    return {
        "front_desk": front_desk_user,
        "clinician": clinician_user,
        "manager": manager_user,
        "patient": patient_user,
    }


def test_anonymous_callers_get_401_everywhere(api_client, other_patient):
    for url in ["/api/v1/patients/", f"/api/v1/patients/{other_patient.id}/", "/api/v1/intakes/"]:
        assert api_client.get(url).status_code == 401, url


def test_staff_list_all_patients_and_a_patient_lists_only_themself(api_as, users, other_patient):
    for role in ("front_desk", "clinician", "manager"):
        response = api_as(users[role]).get("/api/v1/patients/")
        assert response.status_code == 200
        assert response.json()["count"] == 2
    own = api_as(users["patient"]).get("/api/v1/patients/").json()
    assert own["count"] == 1
    assert own["results"][0]["id"] == str(users["patient"].patient.id)


def test_a_patient_reads_their_record_and_gets_404_for_anyone_elses(api_as, users, other_patient):
    client = api_as(users["patient"])
    assert client.get(f"/api/v1/patients/{users['patient'].patient.id}/").status_code == 200
    response = client.get(f"/api/v1/patients/{other_patient.id}/")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_only_staff_create_and_edit_patients(api_as, users):
    body = {"legal_first_name": "Ana", "legal_last_name": "Silva", "date_of_birth": "1970-02-03"}
    assert api_as(users["patient"]).post("/api/v1/patients/", body).status_code == 403
    created = api_as(users["front_desk"]).post("/api/v1/patients/", body)
    assert created.status_code == 201
    own_id = users["patient"].patient.id
    assert (
        api_as(users["patient"]).patch(f"/api/v1/patients/{own_id}/", {"city": "X"}).status_code
        == 403
    )
    edited = api_as(users["front_desk"]).patch(
        f"/api/v1/patients/{created.json()['id']}/", {"insurance_payer": "Aetna"}
    )
    assert edited.status_code == 200 and edited.json()["insurance_payer"] == "Aetna"


@pytest.mark.parametrize("chart_list", LISTS)
def test_clinical_lists_by_role(api_as, users, other_patient, fill_chart, chart_list):
    own = fill_chart(users["patient"].patient)
    fill_chart(other_patient)
    own_url = f"/api/v1/patients/{own.id}/{chart_list}/"
    other_url = f"/api/v1/patients/{other_patient.id}/{chart_list}/"

    for role in ("clinician", "manager"):
        response = api_as(users[role]).get(other_url)
        assert response.status_code == 200 and response.json()["count"] == 1

    front_desk = api_as(users["front_desk"]).get(other_url)
    assert front_desk.status_code == 404 and front_desk.json() == NOT_FOUND

    patient = api_as(users["patient"])
    assert patient.get(own_url).json()["count"] == 1
    assert patient.get(other_url).status_code == 404
    assert patient.post(other_url, NEW_ENTRY[chart_list]).status_code == 404

    created = api_as(users["clinician"]).post(other_url, NEW_ENTRY[chart_list])
    assert created.status_code == 201, created.json()
    assert created.json()["recorded_by"] == users["clinician"].username


@pytest.mark.parametrize("chart_list", ["allergies", "medications", "conditions", "devices"])
def test_patients_read_but_do_not_write_their_clinical_lists(api_as, users, chart_list):
    url = f"/api/v1/patients/{users['patient'].patient.id}/{chart_list}/"
    assert api_as(users["patient"]).post(url, NEW_ENTRY[chart_list]).status_code == 403
    assert api_as(users["front_desk"]).post(url, NEW_ENTRY[chart_list]).status_code == 404


def test_a_patient_records_their_own_assessment(api_as, users):
    url = f"/api/v1/patients/{users['patient'].patient.id}/assessments/"
    response = api_as(users["patient"]).post(url, NEW_ENTRY["assessments"])
    assert response.status_code == 201
    assert response.json()["source"] == "patient"
    assert response.json()["total"] == "4.00" and response.json()["band"] == "moderate"


def test_entries_of_another_patient_are_404_through_any_path(
    api_as, users, other_patient, fill_chart
):
    fill_chart(other_patient)
    allergy = other_patient.allergies.get()
    client = api_as(users["clinician"])
    own_path = f"/api/v1/patients/{users['patient'].patient.id}/allergies/{allergy.id}/"
    assert client.get(own_path).status_code == 404
    right_path = f"/api/v1/patients/{other_patient.id}/allergies/{allergy.id}/"
    assert client.get(right_path).status_code == 200
    ended = client.patch(right_path, {"end_date": "2026-01-01"})
    assert ended.status_code == 200 and ended.json()["end_date"] == "2026-01-01"


def submit_intake(client, patient, **extra):
    return client.post(
        f"/api/v1/patients/{patient.id}/intakes/", {"answers": intake_answers(), **extra}
    )


def test_intake_submission_and_review_by_role(api_as, users, other_patient):
    patient = users["patient"].patient
    response = submit_intake(
        api_as(users["patient"]),
        patient,
        demographics={"phone": "919-555-0177"},
        medications=[{"name": "Warfarin", "drug_class": "vitamin_k_antagonist", "dose": "5 mg"}],
    )
    assert response.status_code == 201, response.json()
    intake = response.json()
    assert intake["entered_by_staff"] is False
    assert submit_intake(api_as(users["patient"]), other_patient).status_code == 404

    by_desk = submit_intake(api_as(users["front_desk"]), other_patient)
    assert by_desk.status_code == 201 and by_desk.json()["entered_by_staff"] is True

    assert api_as(users["patient"]).get("/api/v1/intakes/").status_code == 403
    queue = api_as(users["clinician"]).get("/api/v1/intakes/").json()
    assert [row["id"] for row in queue["results"]] == [intake["id"]]

    desk_view = api_as(users["front_desk"]).get(f"/api/v1/intakes/{intake['id']}/").json()
    assert desk_view["answers"] is None
    assert {item["kind"] for item in desk_view["items"]} == {"demographic"}
    desk_list = api_as(users["front_desk"]).get(f"/api/v1/patients/{patient.id}/intakes/").json()
    assert [item["kind"] for item in desk_list["results"][0]["items"]] == ["demographic"]
    assert desk_list["results"][0]["answers"] is None

    items = {item["kind"]: item for item in intake["items"]}
    decide = f"/api/v1/intakes/{intake['id']}/items/{{}}/decision/"
    desk = api_as(users["front_desk"])
    assert desk.post(decide.format(items["medication"]["id"]), {"accept": True}).status_code == 404
    accepted = desk.post(decide.format(items["demographic"]["id"]), {"accept": True})
    assert accepted.status_code == 200
    patient.refresh_from_db()
    assert patient.phone == "+19195550177"

    patient_client = api_as(users["patient"])
    assert (
        patient_client.post(decide.format(items["medication"]["id"]), {"accept": True}).status_code
        == 403
    )
    clinician = api_as(users["clinician"])
    done = clinician.post(
        decide.format(items["medication"]["id"]), {"accept": False, "note": "stopped"}
    )
    assert done.status_code == 200
    assert done.json()["status"] == "reviewed"
    assert patient.medications.count() == 0


def test_front_desk_cannot_decide_a_clinical_item_it_can_see(api_as, users):
    """Through the service: a clinical item is reviewed by a clinician (403)."""
    intake = services.intake_submit(
        patient=users["patient"].patient,
        by=Actor.portal(users["patient"]),
        answers=intake_answers(),
        allergies=[{"substance": "Latex", "procedure_class": "latex"}],
    )
    item = intake.items.get()
    with pytest.raises(Forbidden):
        services.intake_item_decide(item=item, by=Actor.desk(users["front_desk"]), accept=True)


def test_duplicates_are_staff_only(api_as, users):
    assert api_as(users["patient"]).get("/api/v1/duplicates/").status_code == 403
    assert api_as(users["front_desk"]).get("/api/v1/duplicates/").status_code == 200


def test_staff_only_actions_are_refused_to_a_patient(api_as, users, other_patient):
    import uuid

    any_id = uuid.uuid4()
    client = api_as(users["patient"])
    for url in [
        f"/api/v1/duplicates/{any_id}/merge/",
        f"/api/v1/duplicates/{any_id}/dismiss/",
        f"/api/v1/intakes/{any_id}/reviewed/",
        f"/api/v1/intakes/{any_id}/items/{any_id}/decision/",
    ]:
        assert client.post(url, {}).status_code == 403, url


def test_a_patient_cannot_see_another_patients_intake(api_as, users, other_patient):
    intake = services.intake_submit(
        patient=other_patient, by=Actor.desk(users["front_desk"]), answers=intake_answers()
    )
    response = api_as(users["patient"]).get(f"/api/v1/intakes/{intake.id}/")
    assert response.status_code == 404 and response.json() == NOT_FOUND
    listed = api_as(users["patient"]).get(f"/api/v1/patients/{other_patient.id}/intakes/")
    assert listed.status_code == 404
