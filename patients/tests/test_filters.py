"""The patients API's filters: valid ones narrow the list, a value they cannot read is a 400
naming the field, never an empty list."""

import pytest
from django.utils import timezone

from patients.models import Assessment
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(db):
    """A patient with an NRS score for the neck and one for the low back, and an ODI."""
    patient = PatientFactory()
    for instrument, region in (("nrs", "neck"), ("nrs", "low_back"), ("odi", "")):
        Assessment.objects.create(
            patient=patient,
            instrument=instrument,
            body_region=region,
            items={"score": 5},
            total=5,
            taken_at=timezone.now(),
        )
    return patient


def listed(response) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.json()
    return sorted((a["instrument"], a["body_region"]) for a in response.json()["results"])


def test_assessments_narrow_by_instrument_and_region(api_as, clinician_user, scored):
    client = api_as(clinician_user)
    url = f"/api/v1/patients/{scored.pk}/assessments/"
    assert listed(client.get(url, {"instrument": "nrs"})) == [("nrs", "low_back"), ("nrs", "neck")]
    assert listed(client.get(url, {"instrument": "nrs", "body_region": "neck"})) == [
        ("nrs", "neck")
    ]
    assert len(listed(client.get(url, {"instrument": "", "body_region": ""}))) == 3


@pytest.mark.parametrize(
    ("field", "value"), [("instrument", "bogus"), ("body_region", "elbow-ish")]
)
def test_an_unknown_assessment_filter_value_is_a_400_naming_the_field(
    api_as, clinician_user, scored, field, value
):
    response = api_as(clinician_user).get(
        f"/api/v1/patients/{scored.pk}/assessments/", {field: value}
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["detail"]) == ("invalid", "Some fields are not valid.")
    assert list(body["fields"]) == [field]
    assert value in body["fields"][field][0]


def test_the_patient_search_is_a_filter_and_a_blank_one_lists_everyone(api_as, front_desk_user):
    rosa = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
    PatientFactory(legal_first_name="James", legal_last_name="Okafor")
    merged = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero", merged_into=rosa)
    client = api_as(front_desk_user)
    found = client.get("/api/v1/patients/", {"search": "quintero rosa"}).json()["results"]
    assert [p["id"] for p in found] == [str(rosa.pk)]
    everyone = client.get("/api/v1/patients/", {"search": ""}).json()
    assert everyone["count"] == 2 and str(merged.pk) not in {p["id"] for p in everyone["results"]}


def test_a_patient_searching_finds_only_their_own_record(
    api_as, patient_user, own_patient, other_patient
):
    client = api_as(patient_user)
    mine = client.get("/api/v1/patients/", {"search": own_patient.legal_last_name}).json()
    assert [p["id"] for p in mine["results"]] == [str(own_patient.pk)]
    theirs = client.get("/api/v1/patients/", {"search": other_patient.full_name}).json()
    assert theirs["count"] == 0
