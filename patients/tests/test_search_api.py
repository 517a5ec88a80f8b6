"""The API search takes its terms in the body, so a name never travels in a URL."""

import pytest

from clinic.audit.models import AuditEvent
from clinic.core.logredact import redact
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/patients/search/"


def test_staff_search_by_name_in_the_body(api_as, front_desk_user):
    rosa = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintana")
    PatientFactory(legal_first_name="Walter", legal_last_name="Unrelated")
    response = api_as(front_desk_user).post(URL, {"search": "quintana"}, format="json")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(rosa.pk)]
    row = AuditEvent.objects.get(route="api-patients-search")
    assert row.patients == [rosa.pk] and "quintana" not in row.path.lower()


def test_missing_or_long_terms_are_a_400_naming_the_field(api_as, front_desk_user):
    api = api_as(front_desk_user)
    assert "search" in api.post(URL, {}, format="json").json()["fields"]
    assert "search" in api.post(URL, {"search": "x" * 101}, format="json").json()["fields"]


def test_patients_cannot_search(api_as, patient_user):
    assert api_as(patient_user).post(URL, {"search": "a"}, format="json").status_code == 403


def test_a_get_is_405(api_as, front_desk_user):
    assert api_as(front_desk_user).get(URL).status_code == 405


def test_query_strings_never_reach_a_log_line():
    line = '"GET /api/v1/patients/?search=Quintana&page=2 HTTP/1.1" 200 512'
    assert redact(line) == '"GET /api/v1/patients/?… HTTP/1.1" 200 512'
