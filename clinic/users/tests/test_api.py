import pytest
from knox.crypto import hash_token
from knox.models import AuthToken

from conftest import TEST_PASSWORD
from tests.signin import totp_code_for

pytestmark = pytest.mark.django_db


def test_token_for_good_credentials_then_me_with_it(api_client, front_desk_user):
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": "desk1", "password": TEST_PASSWORD, "otp": totp_code_for("desk1")},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["expiry"]
    assert AuthToken.objects.get(user=front_desk_user).digest == hash_token(token)

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api_client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json() == {
        "username": "desk1",
        "first_name": "Dana",
        "last_name": "",
        "role": "front_desk",
        "patient": None,
    }


def test_bad_credentials_are_a_400_in_the_error_shape(api_client, front_desk_user):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "desk1", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "credentials" in body["detail"].lower()
    assert body["fields"] == {}


def test_missing_fields_are_listed_per_field(api_client):
    response = api_client.post("/api/v1/auth/token/", {"username": ""}, format="json")
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"username", "password"}
    assert all(isinstance(messages, list) and messages for messages in fields.values())


def test_me_gives_a_patient_their_patient_id(api_as, patient_user):
    response = api_as(patient_user).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["role"] == "patient"
    assert response.json()["patient"] == str(patient_user.patient.id)


def test_me_needs_authentication(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_wrong_token_is_refused(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_token_endpoint_keeps_working_while_redis_is_down(api_client, front_desk_user, settings):
    """The cache (Redis) may be down: sign-in limits live in PostgreSQL, nothing is a 500."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": "desk1", "password": TEST_PASSWORD, "otp": totp_code_for("desk1")},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["token"]
