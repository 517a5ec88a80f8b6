"""The history API refuses a filter value it cannot read; the page shows everything."""

import pytest

from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, clinician_user):
    client.sign_in(clinician_user)
    return client


def test_an_unknown_kind_or_region_is_a_400_naming_the_field(signed_in):
    url = f"/api/v1/patients/{PatientFactory().pk}/history/"
    kind = signed_in.get(url, {"kind": ["procedure", "haircut"]})
    assert kind.status_code == 400
    assert set(kind.json()["fields"]) == {"kind"}
    region = signed_in.get(url, {"region": "elbow"})
    assert region.status_code == 400
    assert set(region.json()["fields"]) == {"region"}


def test_known_values_filter_the_api(signed_in):
    url = f"/api/v1/patients/{PatientFactory().pk}/history/"
    answer = signed_in.get(url, {"kind": ["procedure"], "region": "lumbar_sacral"})
    assert answer.status_code == 200


def test_the_page_leaves_an_unknown_value_out(signed_in):
    page = signed_in.get(f"/patients/{PatientFactory().pk}/history/", {"kind": "haircut"})
    assert page.status_code == 200
    assert page.context["selected_kinds"] == []
