import pytest

from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_portal_shows_only_the_signed_in_patients_record(client, patient_user):
    other = PatientFactory(legal_first_name="Zebulon", mrn="99999999")
    client.force_login(patient_user)
    page = client.get("/portal/").content.decode()
    assert f"Welcome, {patient_user.patient.first_name}" in page
    assert patient_user.patient.mrn in page
    assert other.mrn not in page and "Zebulon" not in page


def test_a_patient_login_without_a_record_is_told_what_happens_next(client, make_user):
    from clinic.users.roles import Role

    client.force_login(make_user("newbie", Role.PATIENT))
    assert "not linked to a patient record yet" in client.get("/portal/").content.decode()
