import pytest

from patients.tests.factories import PatientFactory
from scheduling.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db


def test_patient_list_searches_by_name_and_mrn(client, clinician_user):
    rosa = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
    PatientFactory(legal_first_name="James", legal_last_name="Okoro")
    client.sign_in(clinician_user)
    by_name = client.post("/patients/", {"q": "quint"}).content.decode()
    assert "Quintero, Rosa" in by_name and "Okoro" not in by_name
    by_mrn = client.post("/patients/", {"q": rosa.mrn}).content.decode()
    assert "Quintero, Rosa" in by_mrn and "Okoro" not in by_mrn
    assert "No patient matches" in client.post("/patients/", {"q": "zzz"}).content.decode()


def test_empty_patient_list_says_so(client, front_desk_user):
    client.sign_in(front_desk_user)
    assert "No patients yet." in client.get("/patients/").content.decode()


@pytest.mark.parametrize("patients", [3, 40])
def test_patient_list_query_count_does_not_grow_with_patients(
    client, clinician_user, django_assert_num_queries, patients
):
    location = LocationFactory()
    PatientFactory.create_batch(patients, home_location=location)
    client.sign_in(clinician_user)
    # session, user, the second factor's device, groups (role), count, page of patients with
    # their locations, and the count of open duplicate pairs the page links to (one fixed
    # query, added with it)
    with django_assert_num_queries(8):
        response = client.get("/patients/")
    assert response.status_code == 200
