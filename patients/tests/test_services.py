from datetime import date

import pytest
from django.db import IntegrityError

from clinic.core.errors import ValidationFailed
from clinic.users.actor import Actor
from patients.models import Patient
from patients.services import next_mrn, patient_create

pytestmark = pytest.mark.django_db


def create(**overrides):
    fields = {
        "legal_first_name": " Rosa ",
        "legal_last_name": "Martinez",
        "date_of_birth": date(1961, 4, 2),
        "phone": "(919) 555-0142",
        "email": "Rosa.Martinez@Example.org",
    }
    return patient_create(by=Actor.system(), **{**fields, **overrides})


def test_create_normalises_phone_email_and_names():
    patient = create()
    assert patient.phone == "+19195550142"
    assert patient.email == "rosa.martinez@example.org"
    assert patient.legal_first_name == "Rosa"
    assert str(patient) == f"Patient {patient.mrn}"


def test_mrns_are_unique_eight_digit_numbers_in_sequence():
    first, second = create(), create(legal_first_name="Ana")
    assert len(first.mrn) == 8 and first.mrn.isdigit()
    assert int(second.mrn) == int(first.mrn) + 1
    assert int(next_mrn()) > int(second.mrn)


def test_an_impossible_phone_is_refused_and_nothing_is_written():
    with pytest.raises(ValidationFailed) as caught:
        create(phone="555-01")
    assert caught.value.fields == {"phone": ["This phone number has the wrong number of digits."]}
    assert Patient.objects.count() == 0


def test_a_bad_email_is_a_field_error():
    with pytest.raises(ValidationFailed) as caught:
        create(email="not-an-email")
    assert "email" in caught.value.fields


def test_database_refuses_a_birth_date_before_1900():
    patient = create()
    patient.date_of_birth = date(1850, 1, 1)
    with pytest.raises(IntegrityError):
        patient.save()
