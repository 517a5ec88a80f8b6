"""A condition's ICD-10-CM code: checked for its format, compared with the clinic's list
(patients/data/icd10_pain.csv), a code outside it accepted and flagged in the API, the
admin and the chart."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from patients.icd10 import NOT_IN_LIST, in_clinic_list
from patients.models import Condition, ConditionKind

pytestmark = pytest.mark.django_db

LISTED = "M54.16"
UNLISTED = "J45.909"


def conditions_url(patient) -> str:
    return f"/api/v1/patients/{patient.id}/conditions/"


def test_the_two_codes_are_on_either_side_of_the_list():
    assert in_clinic_list(LISTED) and not in_clinic_list(UNLISTED)


def test_a_listed_code_is_stored_upper_case_without_a_flag(api_as, clinician_user, other_patient):
    response = api_as(clinician_user).post(
        conditions_url(other_patient),
        {"kind": "other", "description": "Lumbar radiculopathy", "icd10_code": " m54.16 "},
    )
    assert response.status_code == 201, response.content
    assert response.json()["icd10_code"] == LISTED
    assert response.json()["icd10_flag"] == ""
    assert Condition.objects.get().icd10_code == LISTED


def test_a_code_outside_the_list_is_kept_and_flagged(api_as, clinician_user, other_patient):
    response = api_as(clinician_user).post(
        conditions_url(other_patient),
        {"kind": "other", "description": "Asthma", "icd10_code": UNLISTED},
    )
    assert response.status_code == 201, response.content
    assert response.json()["icd10_flag"] == NOT_IN_LIST
    listed = api_as(clinician_user).get(conditions_url(other_patient)).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["icd10_flag"] for row in rows] == [NOT_IN_LIST]


def test_a_malformed_code_is_a_field_error_and_nothing_is_written(
    api_as, clinician_user, other_patient
):
    response = api_as(clinician_user).post(
        conditions_url(other_patient),
        {"kind": "diabetes", "icd10_code": "250.00"},
    )
    assert response.status_code == 400
    assert response.json()["fields"]["icd10_code"] == ["Enter an ICD-10-CM code such as M54.16."]
    assert not Condition.objects.exists()


def test_the_database_refuses_a_malformed_code(other_patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        Condition.objects.create(
            patient=other_patient, kind=ConditionKind.DIABETES, icd10_code="E11-9"
        )


@pytest.fixture
def admin_client(client, manager_user):
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.sign_in(manager_user)
    return client


def test_the_admin_saves_an_unlisted_code_and_shows_the_flag(admin_client, other_patient):
    response = admin_client.post(
        "/admin/patients/condition/add/",
        {
            "patient": str(other_patient.id),
            "kind": "other",
            "description": "Asthma",
            "icd10_code": UNLISTED,
            "source": "staff",
        },
    )
    assert response.status_code == 302, response.context["adminform"].errors
    condition = Condition.objects.get()
    assert condition.icd10_code == UNLISTED and condition.icd10_flag == NOT_IN_LIST
    page = admin_client.get("/admin/patients/condition/").content.decode()
    assert UNLISTED in page and NOT_IN_LIST.replace("'", "&#x27;") in page


def test_the_admin_refuses_a_malformed_code(admin_client, other_patient):
    response = admin_client.post(
        "/admin/patients/condition/add/",
        {"patient": str(other_patient.id), "kind": "diabetes", "icd10_code": "nope"},
    )
    assert response.status_code == 200
    assert "Enter an ICD-10-CM code such as M54.16." in response.content.decode()
    assert not Condition.objects.exists()


def test_the_chart_shows_the_code_and_the_flag(client, clinician_user, other_patient):
    Condition.objects.create(
        patient=other_patient, kind="other", description="Asthma", icd10_code=UNLISTED
    )
    client.sign_in(clinician_user)
    page = client.get(reverse("patients:chart", args=[other_patient.pk])).content.decode()
    assert UNLISTED in page
    assert NOT_IN_LIST.replace("'", "&#x27;") in page
