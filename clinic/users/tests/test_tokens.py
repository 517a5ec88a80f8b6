"""API tokens (django-rest-knox): hashed at rest, expiring, revocable, listed without secrets."""

from datetime import timedelta

import pytest
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIClient

from clinic.users.models import User
from clinic.users.roles import Role
from clinic.users.tokens import TokenAuthentication
from clinic.users.two_factor import is_staff_account
from conftest import TEST_PASSWORD
from tests.signin import fresh_recovery_code, totp_code_for

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
NEW_PASSWORD = "a-new-Passw0rd-nobody-guesses"


def sign_in(user: User) -> str:
    data = {"username": user.username, "password": TEST_PASSWORD}
    if is_staff_account(user):  # the second factor (test_two_factor.py covers the app's code)
        data["otp"] = fresh_recovery_code(user)
    response = APIClient().post(TOKEN_URL, data, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def as_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def me_status(token: str) -> int:
    return as_token(token).get("/api/v1/me/").status_code


def test_the_answer_has_token_and_expiry_eight_hours_on_for_staff(front_desk_user):
    before = timezone.now()
    response = APIClient().post(
        TOKEN_URL,
        {"username": "desk1", "password": TEST_PASSWORD, "otp": totp_code_for("desk1")},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry"}
    expiry = AuthToken.objects.get(user=front_desk_user).expiry
    assert before + timedelta(hours=8) <= expiry <= timezone.now() + timedelta(hours=8)


def test_the_lifetime_comes_from_settings(front_desk_user, patient_user, settings):
    settings.API_TOKEN_TTL_SECONDS_STAFF = 600
    settings.API_TOKEN_TTL_SECONDS_PATIENT = 3600
    sign_in(front_desk_user)
    sign_in(patient_user)
    now = timezone.now()
    staff = AuthToken.objects.get(user=front_desk_user).expiry
    patient = AuthToken.objects.get(user=patient_user).expiry
    assert now < staff <= now + timedelta(seconds=600)
    assert now + timedelta(seconds=3000) < patient <= now + timedelta(seconds=3600)


def test_tokens_are_stored_as_digests_not_in_clear(front_desk_user):
    token = sign_in(front_desk_user)
    row = AuthToken.objects.get(user=front_desk_user)
    assert row.digest != token
    assert token not in row.digest
    assert row.digest == hash_token(token)
    assert len(row.digest) == 128  # SHA-512, hex
    assert len(row.token_key) < len(token)  # only a lookup prefix is kept


def test_an_expired_token_is_a_401(front_desk_user):
    token = sign_in(front_desk_user)
    assert me_status(token) == 200
    AuthToken.objects.filter(user=front_desk_user).update(
        expiry=timezone.now() - timedelta(seconds=1)
    )
    response = as_token(token).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert not AuthToken.objects.filter(user=front_desk_user).exists(), "deleted when used"


def test_a_token_check_reads_the_token_its_user_and_the_role_in_one_query(
    front_desk_user, clinician_user, django_assert_num_queries
):
    token = sign_in(front_desk_user)
    sign_in(clinician_user)  # another token with, perhaps, the same lookup prefix: not taken
    with django_assert_num_queries(1):
        user, auth = TokenAuthentication().authenticate_credentials(token.encode())
        assert (user, user.role, user.is_clinic_staff) == (front_desk_user, Role.FRONT_DESK, True)
    assert auth.digest == hash_token(token)
    with pytest.raises(AuthenticationFailed):
        TokenAuthentication().authenticate_credentials(token[:-1].encode() + b"x")


def test_signing_in_sweeps_the_users_expired_tokens_only(front_desk_user, clinician_user):
    kept, expired, others = (
        sign_in(front_desk_user),
        sign_in(front_desk_user),
        sign_in(clinician_user),
    )
    past = timezone.now() - timedelta(seconds=1)
    AuthToken.objects.filter(digest__in=[hash_token(expired), hash_token(others)]).update(
        expiry=past
    )
    sign_in(front_desk_user)
    left = set(AuthToken.objects.values_list("digest", flat=True))
    assert hash_token(kept) in left and hash_token(others) in left
    assert hash_token(expired) not in left
    assert AuthToken.objects.filter(user=front_desk_user).count() == 2


def test_logout_revokes_only_the_token_in_use(front_desk_user):
    first, second = sign_in(front_desk_user), sign_in(front_desk_user)
    response = as_token(first).post("/api/v1/auth/logout/")
    assert response.status_code == 204
    assert me_status(first) == 401
    assert me_status(second) == 200


def test_logout_all_revokes_every_token_of_the_user_only(front_desk_user, clinician_user):
    first, second = sign_in(front_desk_user), sign_in(front_desk_user)
    other = sign_in(clinician_user)
    assert as_token(first).post("/api/v1/auth/logout-all/").status_code == 204
    assert me_status(first) == 401
    assert me_status(second) == 401
    assert me_status(other) == 200


def test_logout_needs_a_token(api_client):
    assert api_client.post("/api/v1/auth/logout/").status_code == 401
    assert api_client.post("/api/v1/auth/logout-all/").status_code == 401


def test_the_list_shows_only_ones_own_tokens_and_never_the_secret(front_desk_user, clinician_user):
    mine = [sign_in(front_desk_user), sign_in(front_desk_user)]
    theirs = sign_in(clinician_user)
    response = as_token(mine[1]).get("/api/v1/auth/tokens/")
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 2
    assert [row["current"] for row in rows] == [True, False]  # newest first
    own_digests = set(
        AuthToken.objects.filter(user=front_desk_user).values_list("digest", flat=True)
    )
    for row in rows:
        assert set(row) == {"id", "prefix", "created", "expiry", "current"}
        assert any(digest.startswith(row["id"]) for digest in own_digests)
        assert len(row["prefix"]) == 8
    text = response.content.decode()
    for secret in [*mine, theirs]:
        assert secret not in text
        assert secret[8:16] not in text  # nothing past the short prefix
    assert theirs[:8] not in text


def test_expired_tokens_are_not_listed(front_desk_user):
    old, current = sign_in(front_desk_user), sign_in(front_desk_user)
    AuthToken.objects.filter(digest=hash_token(old)).update(expiry=timezone.now())
    rows = as_token(current).get("/api/v1/auth/tokens/").json()
    assert [row["current"] for row in rows] == [True]


def test_one_can_revoke_one_of_ones_own_tokens_by_id(front_desk_user):
    other_device, current = sign_in(front_desk_user), sign_in(front_desk_user)
    rows = as_token(current).get("/api/v1/auth/tokens/").json()
    target = next(row["id"] for row in rows if not row["current"])
    response = as_token(current).delete(f"/api/v1/auth/tokens/{target}/")
    assert response.status_code == 204
    assert me_status(other_device) == 401
    assert me_status(current) == 200
    assert as_token(current).delete(f"/api/v1/auth/tokens/{target}/").status_code == 404


def test_one_cannot_revoke_another_users_token(front_desk_user, clinician_user):
    theirs = sign_in(clinician_user)
    their_id = as_token(theirs).get("/api/v1/auth/tokens/").json()[0]["id"]
    mine = sign_in(front_desk_user)
    response = as_token(mine).delete(f"/api/v1/auth/tokens/{their_id}/")
    assert response.status_code == 404
    assert me_status(theirs) == 200


def test_the_token_list_works_signed_in_by_session(client, front_desk_user):
    token = sign_in(front_desk_user)
    client.sign_in(front_desk_user)
    rows = client.get("/api/v1/auth/tokens/").json()
    assert len(rows) == 1
    assert rows[0]["current"] is False
    assert rows[0]["prefix"] == token[:8]


def test_a_password_change_revokes_all_tokens(front_desk_user):
    first, second = sign_in(front_desk_user), sign_in(front_desk_user)
    form = PasswordChangeForm(
        front_desk_user,
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert form.is_valid(), form.errors
    form.save()  # what Django's password change view does
    assert me_status(first) == 401
    assert me_status(second) == 401
    assert not AuthToken.objects.filter(user=front_desk_user).exists()


def test_a_password_reset_revokes_all_tokens(patient_user):
    token = sign_in(patient_user)
    form = SetPasswordForm(
        patient_user, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert form.is_valid(), form.errors
    form.save()  # what Django's password reset confirm view does
    assert me_status(token) == 401


def test_a_service_setting_a_password_revokes_tokens(front_desk_user):
    token = sign_in(front_desk_user)
    user = User.objects.get(pk=front_desk_user.pk)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert me_status(token) == 401


def test_deactivation_revokes_all_tokens(front_desk_user):
    token = sign_in(front_desk_user)
    user = User.objects.get(pk=front_desk_user.pk)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not AuthToken.objects.filter(user=front_desk_user).exists()
    assert me_status(token) == 401


def test_other_saves_and_a_rehash_of_the_same_password_keep_tokens(front_desk_user):
    token = sign_in(front_desk_user)
    user = User.objects.get(pk=front_desk_user.pk)
    user.first_name = "Danielle"
    user.save()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    user.set_password(TEST_PASSWORD)  # a new salt and hash, the same password
    user.save(update_fields=["password"])
    assert me_status(token) == 200
