"""Bad input is a 400 with field errors, never a 500 and never a partial write."""

import pytest

from patients.models import Assessment, Medication, Patient

pytestmark = pytest.mark.django_db


def test_invalid_phone_and_future_birth_date_are_field_errors(api_as, front_desk_user):
    response = api_as(front_desk_user).post(
        "/api/v1/patients/",
        {
            "legal_first_name": "Ana",
            "legal_last_name": "Silva",
            "date_of_birth": "2999-01-01",
            "phone": "12345",
            "emergency_contact_phone": "not a phone",
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["fields"]["date_of_birth"] == ["The date of birth cannot be in the future."]
    assert body["fields"]["phone"] == ["This phone number has the wrong number of digits."]
    assert "emergency_contact_phone" in body["fields"]
    assert not Patient.objects.exists()


def test_missing_and_malformed_fields(api_as, front_desk_user):
    response = api_as(front_desk_user).post(
        "/api/v1/patients/", {"legal_first_name": "Ana", "date_of_birth": "03/04/70", "sex": "x"}
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"legal_last_name", "date_of_birth", "sex"}


def test_nrs_of_eleven_is_a_field_error(api_as, clinician_user, other_patient):
    response = api_as(clinician_user).post(
        f"/api/v1/patients/{other_patient.id}/assessments/",
        {"instrument": "nrs", "body_region": "low_back", "items": {"score": 11}},
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"items": {"score": ["NRS is 0 to 10; got 11."]}}
    assert not Assessment.objects.exists()


def test_nrs_needs_a_region_and_unknown_instruments_are_refused(
    api_as, clinician_user, other_patient
):
    url = f"/api/v1/patients/{other_patient.id}/assessments/"
    client = api_as(clinician_user)
    no_region = client.post(url, {"instrument": "nrs", "items": {"score": 5}})
    assert no_region.status_code == 400 and "body_region" in no_region.json()["fields"]
    unknown = client.post(url, {"instrument": "vas", "items": {"score": 5}})
    assert unknown.status_code == 400 and "instrument" in unknown.json()["fields"]


def test_odi_is_scored_and_stored_with_its_items(api_as, clinician_user, other_patient):
    items = {
        "s1": 3,
        "s2": 2,
        "s3": 2,
        "s4": 1,
        "s5": 3,
        "s6": 2,
        "s7": 1,
        "s8": None,
        "s9": 2,
        "s10": 1,
    }
    response = api_as(clinician_user).post(
        f"/api/v1/patients/{other_patient.id}/assessments/", {"instrument": "odi", "items": items}
    )
    assert response.status_code == 201
    assert (response.json()["total"], response.json()["band"]) == ("37.80", "moderate")
    assert Assessment.objects.get().items == items


def test_an_unknown_medication_class_is_a_field_error(api_as, clinician_user, other_patient):
    response = api_as(clinician_user).post(
        f"/api/v1/patients/{other_patient.id}/medications/",
        {"name": "Mystery pill", "drug_class": "unicorn"},
    )
    assert response.status_code == 400
    assert "drug_class" in response.json()["fields"]
    assert not Medication.objects.exists()


def test_an_end_date_before_the_start_date_is_refused(api_as, clinician_user, other_patient):
    response = api_as(clinician_user).post(
        f"/api/v1/patients/{other_patient.id}/medications/",
        {
            "name": "Naproxen",
            "drug_class": "nsaid",
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
        },
    )
    assert response.status_code == 400
    assert not Medication.objects.exists()


def test_a_bad_intake_is_a_400_with_nested_fields(api_as, patient_user):
    response = api_as(patient_user).post(
        f"/api/v1/patients/{patient_user.patient.id}/intakes/",
        {
            "answers": {"chief_complaint": "pain"},
            "medications": [{"name": "X", "drug_class": "nope"}],
        },
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert "red_flags" in fields["answers"]
    assert "drug_class" in fields["medications"]["0"]
    assert patient_user.patient.intakes.count() == 0


def test_schema_lists_the_patients_endpoints(client, front_desk_user):
    client.sign_in(front_desk_user)  # the schema is for signed-in staff only
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()[
        "paths"
    ]
    for path in [
        "/api/v1/patients/",
        "/api/v1/patients/{patient_id}/",
        "/api/v1/patients/{patient_id}/allergies/",
        "/api/v1/patients/{patient_id}/medications/",
        "/api/v1/patients/{patient_id}/conditions/",
        "/api/v1/patients/{patient_id}/assessments/",
        "/api/v1/patients/{patient_id}/intakes/",
        "/api/v1/intakes/",
        "/api/v1/intakes/{intake_id}/items/{item_id}/decision/",
        "/api/v1/duplicates/",
    ]:
        assert path in paths, path
