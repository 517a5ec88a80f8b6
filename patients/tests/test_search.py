from datetime import date

import pytest

from patients.selectors import patient_search
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "rosa": PatientFactory(
            legal_first_name="Rosa",
            legal_last_name="Quintero",
            preferred_name="Rosie",
            date_of_birth=date(1961, 4, 2),
            phone="+19195550142",
        ),
        "james": PatientFactory(
            legal_first_name="James",
            legal_last_name="Okoro",
            date_of_birth=date(1975, 11, 30),
            phone="+13035550177",
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("quint", ["rosa"]),
        ("ROSA quintero", ["rosa"]),
        ("Quintero, Rosa", ["rosa"]),
        ("rosie", ["rosa"]),
        ("1961-04-02", ["rosa"]),
        ("04/02/1961", ["rosa"]),
        ("(919) 555-0142", ["rosa"]),
        ("9195550142", ["rosa"]),
        ("0177", ["james"]),
        ("o", ["james", "rosa"]),
        ("nobody", []),
        ("", ["james", "rosa"]),
    ],
)
def test_search_by_name_birth_date_and_phone(people, query, expected):
    found = list(patient_search(query=query))
    assert found == [people[name] for name in expected]


def test_search_by_mrn(people):
    assert list(patient_search(query=people["james"].mrn)) == [people["james"]]


@pytest.mark.parametrize("count", [3, 30])
def test_api_search_has_a_fixed_query_count(
    api_as, front_desk_user, django_assert_num_queries, count
):
    PatientFactory.create_batch(count, legal_last_name="Smith")
    client = api_as(front_desk_user)
    with django_assert_num_queries(4):  # role groups, count, page, the audit row
        response = client.get("/api/v1/patients/", {"search": "smith"})
    assert response.json()["count"] == count
