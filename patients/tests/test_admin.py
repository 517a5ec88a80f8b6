"""Patients added in the admin go through patient_create: a record number, the contact
rules and the duplicate check, as from the clinic's own pages."""

import pytest

from patients.models import DuplicateCandidate, Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/patients/patient/add/"


@pytest.fixture
def admin_client(client, manager_user):
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.sign_in(manager_user)
    return client


def add_form(client, **fields: str) -> dict[str, str]:
    """What the add page posts: its management forms (no chart rows) and `fields`."""
    page = client.get(ADD)
    assert page.status_code == 200
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    defaults = {"status": "active", "preferred_channel": "email", "sex": "female"}
    return data | defaults | fields


def test_a_patient_added_in_the_admin_is_checked_for_duplicates(admin_client):
    existing = PatientFactory(
        legal_first_name="Rosalind", legal_last_name="Okonkwo", date_of_birth="1961-04-09"
    )
    data = add_form(
        admin_client,
        legal_first_name="Rosalind",
        legal_last_name="Okonkwo",
        date_of_birth="1961-04-09",
        phone="(919) 555-0142",
        email="R.Okonkwo@Example.org",
    )

    response = admin_client.post(ADD, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    added = Patient.objects.exclude(pk=existing.pk).get(legal_last_name="Okonkwo")
    assert added.mrn, "the record number comes from the service's sequence"
    assert added.phone == "+19195550142" and added.email == "r.okonkwo@example.org"
    pair = DuplicateCandidate.objects.get()
    assert {pair.patient_id, pair.match_id} == {added.pk, existing.pk}


def test_the_admin_shows_the_services_field_rules_on_the_form(admin_client):
    data = add_form(
        admin_client,
        legal_first_name="Ada",
        legal_last_name="Quill",
        date_of_birth="2990-01-01",
        phone="12",
    )

    response = admin_client.post(ADD, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "date_of_birth" in errors and "phone" in errors
    assert not Patient.objects.filter(legal_last_name="Quill").exists()


def test_intakes_are_read_only_in_the_admin(admin_client):
    assert admin_client.get("/admin/patients/intakesubmission/add/").status_code == 403
