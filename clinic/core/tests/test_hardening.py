"""Answers to signed-in users are never cached; absurd JSON bodies are a 400, not a 500."""

import json

import pytest
from knox.models import AuthToken

from clinic.core.parsers import MAX_JSON_DEPTH, json_depth_exceeds
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def test_a_page_for_a_signed_in_user_is_no_store(client, front_desk_user):
    client.sign_in(front_desk_user)
    response = client.get("/patients/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_an_api_answer_to_a_token_is_no_store(client, clinician_user):
    _, token = AuthToken.objects.create(user=clinician_user)
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_ten_thousand_nested_brackets_are_a_400(client):
    response = client.post(TOKEN_URL, "[" * 10_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_nesting_past_the_limit_is_a_400_naming_it(client):
    body = {"username": "a"}
    for _ in range(MAX_JSON_DEPTH):
        body = {"nested": body}
    response = client.post(TOKEN_URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert str(MAX_JSON_DEPTH) in response.json()["detail"]


def test_ordinary_bodies_pass_the_depth_check(client):
    response = client.post(
        TOKEN_URL, {"username": "x", "password": "y"}, content_type="application/json"
    )
    assert response.status_code == 400  # wrong credentials, parsed fine
    assert response.json()["code"] != "parse_error"


@pytest.mark.parametrize(
    ("value", "limit", "exceeds"),
    [
        ({}, 1, False),
        ([[]], 1, True),
        ([[]], 2, False),
        ({"a": [1, {"b": 2}]}, 2, True),
        (3, 0, False),
    ],
)
def test_json_depth(value, limit, exceeds):
    assert json_depth_exceeds(value, limit) is exceeds


@pytest.mark.parametrize("chart_list", ["allergies", "medications", "conditions", "devices"])
def test_posting_to_one_chart_entry_is_a_405(api_as, clinician_user, chart_list):
    patient = PatientFactory()
    entry = "00000000-0000-0000-0000-000000000001"
    url = f"/api/v1/patients/{patient.pk}/{chart_list}/{entry}/"
    response = api_as(clinician_user).post(url, {"name": "x"}, format="json")
    assert response.status_code == 405
    assert "POST" not in response["Allow"]
