"""Fixtures shared by every test: users in each role and API clients signed in as them."""

import pytest
from rest_framework.test import APIClient

from clinic.users.roles import Role
from clinic.users.services import user_upsert

TEST_PASSWORD = "correct-horse-battery"  # noqa: S105


@pytest.fixture
def make_user(db):
    def make(username: str, role: Role, **fields):
        return user_upsert(username=username, password=TEST_PASSWORD, role=role, **fields)

    return make


@pytest.fixture
def front_desk_user(make_user):
    return make_user("desk1", Role.FRONT_DESK, first_name="Dana")


@pytest.fixture
def clinician_user(make_user):
    return make_user("doc1", Role.CLINICIAN, first_name="Chris")


@pytest.fixture
def manager_user(make_user):
    return make_user("boss1", Role.MANAGER, first_name="Morgan")


@pytest.fixture
def patient_user(make_user):
    from patients.tests.factories import PatientFactory

    user = make_user("pat1", Role.PATIENT, first_name="Pat")
    PatientFactory(user=user)
    return user


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(api_client):
    def sign_in(user):
        api_client.force_authenticate(user)
        return api_client

    return sign_in


@pytest.fixture
def own_patient(patient_user):
    """The patient record of `patient_user`."""
    return patient_user.patient


@pytest.fixture
def other_patient(db):
    from patients.tests.factories import PatientFactory

    return PatientFactory(legal_first_name="Other", legal_last_name="Person")
