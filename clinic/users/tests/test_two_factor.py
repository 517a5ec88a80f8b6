"""Two factors for staff (django-otp): enrolment forced at first sign-in, wrong codes refused
and throttled, recovery codes single-use, an unverified session reaching nothing, the admin
on the same sign-in, the token API asking for the code, patients turning it on and off, and
the demo logins' app keys."""

import re
import uuid
from base64 import b32decode
from datetime import timedelta
from io import StringIO
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.test import RequestFactory, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from clinic.users.middleware import OPEN_URL_NAMES
from clinic.users.roles import Role
from clinic.users.two_factor import (
    RECOVERY_CODE_COUNT,
    TOO_MANY_TRIES,
    WRONG_CODE,
    recovery_codes_issue,
    second_factor_check,
)
from conftest import TEST_PASSWORD
from tests.signin import SignedInClient, totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VERIFY = "/accounts/two-factor/"
SETUP = "/accounts/two-factor/setup/"
SETTINGS_PAGE = "/accounts/two-step/"
TOKEN_URL = "/api/v1/auth/token/"


def password_step(client, username: str, next_url: str = "") -> str:
    """Post the password on the sign-in page; the address it sends the browser to."""
    data = {"username": username, "password": TEST_PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(LOGIN, data)
    assert response.status_code == 302, response.content
    return response["Location"]


def code_step(client, code: str, next_url: str = "/"):
    return client.post(VERIFY, {"code": code, "next": next_url})


def app_of(user) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=True)


def is_verified_session(client) -> bool:
    return "otp_device_id" in client.session


# --- Enrolment at first sign-in -------------------------------------------------------------


def test_a_staff_member_without_a_device_is_made_to_set_one_up_first(client, make_user):
    user = make_user("newdesk", Role.FRONT_DESK, second_factor=False)
    client.post(LOGIN, {"username": "newdesk", "password": TEST_PASSWORD})
    desk = client.get("/desk/")
    assert desk.status_code == 302 and desk["Location"] == f"{VERIFY}?next={quote('/desk/', '')}"
    page = client.get(desk["Location"], follow=True)
    assert page.redirect_chain[-1][0] == f"{SETUP}?next={quote('/desk/', '')}"
    body = page.content.decode()
    pending = TOTPDevice.objects.get(user=user, confirmed=False)
    key = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', body).group(1).replace(" ", "")
    assert b32decode(key) == pending.bin_key, "the key to type by hand is the device's"
    assert "<svg" in body and "<path" in body, "the QR code is drawn on the page"
    assert 'href="otpauth://totp/' in body
    assert not is_verified_session(client)

    answer = client.post(SETUP, {"code": totp_code(pending), "next": "/desk/"})
    assert answer.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", answer.content.decode())
    assert len(codes) == RECOVERY_CODE_COUNT == 10
    recovery = StaticDevice.objects.get(user=user)
    assert sorted(recovery.token_set.values_list("token", flat=True)) == sorted(codes)
    assert app_of(user).pk == pending.pk
    assert 'href="/desk/"' in answer.content.decode()
    assert client.get("/desk/").status_code == 200
    # Shown once: the settings page tells how many are left, never the codes.
    page = client.get(SETTINGS_PAGE).content.decode()
    assert not any(code in page for code in codes)


def test_setting_up_refuses_a_wrong_code_and_keeps_the_same_key(client, make_user):
    user = make_user("newdoc", Role.CLINICIAN, second_factor=False)
    client.force_login(user)
    first = client.get(SETUP).content.decode()
    answer = client.post(SETUP, {"code": "000000"})
    body = answer.content.decode()
    assert answer.status_code == 200
    assert 'role="alert"' in body and WRONG_CODE in body.replace("&#x27;", "'")
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    key = re.compile(r'id="totp-secret">([^<]+)<')
    assert key.search(first).group(1) == key.search(body).group(1)
    assert client.get("/patients/").status_code == 302


def test_a_session_that_owes_the_second_step_cannot_add_a_device(client, front_desk_user):
    client.force_login(front_desk_user)  # the password only: the app is already set up
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert not TOTPDevice.objects.filter(user=front_desk_user, confirmed=False).exists()
    begin = client.post(reverse("otp_webauthn:credential-registration-begin"))
    assert begin.status_code == 302 and begin["Location"].startswith(VERIFY)


# --- The second step -----------------------------------------------------------------------


def test_staff_give_a_code_after_the_password_and_land_where_they_were_going(
    client, front_desk_user
):
    assert password_step(client, "desk1", "/desk/waitlist/") == "/desk/waitlist/"
    asked = client.get("/desk/waitlist/")
    assert asked["Location"] == f"{VERIFY}?next={quote('/desk/waitlist/', '')}"
    page = client.get(asked["Location"]).content.decode()
    assert 'name="code"' in page and 'autocomplete="one-time-code"' in page
    assert 'aria-label="Main"' not in page or 'href="/desk/"' not in page, "no navigation yet"

    wrong = code_step(client, "123456", "/desk/waitlist/")
    assert wrong.status_code == 200 and 'role="alert"' in wrong.content.decode()
    assert not is_verified_session(client)
    app = app_of(front_desk_user)
    app.throttle_reset()  # the throttling test below covers the wait
    right = code_step(client, totp_code(app), "/desk/waitlist/")
    assert right.status_code == 302 and right["Location"] == "/desk/waitlist/"
    assert client.get("/desk/waitlist/").status_code == 200


def test_a_used_code_does_not_work_twice(client, front_desk_user):
    code = totp_code(app_of(front_desk_user))
    client.post(LOGIN, {"username": "desk1", "password": TEST_PASSWORD})
    assert code_step(client, code).status_code == 302
    other = SignedInClient()
    other.post(LOGIN, {"username": "desk1", "password": TEST_PASSWORD})
    assert code_step(other, code).status_code == 200
    assert not is_verified_session(other)


def test_wrong_codes_make_the_next_try_wait_longer_each_time(client, front_desk_user, clock):
    app = app_of(front_desk_user)
    client.force_login(front_desk_user)
    code_step(client, "111111")
    app.refresh_from_db()
    assert app.throttling_failure_count == 1
    # Even the right code is refused while the device waits, and that try is not counted.
    refused = code_step(client, totp_code(app))
    assert TOO_MANY_TRIES in refused.content.decode()
    assert not is_verified_session(client)
    clock.shift(seconds=1.5)
    code_step(client, "222222")
    app.refresh_from_db()
    allowed, info = app.verify_is_allowed()
    assert not allowed and info["failure_count"] == 2
    assert info["locked_until"] - app.throttling_failure_timestamp == timedelta(seconds=2)
    clock.shift(seconds=1.5)
    assert TOO_MANY_TRIES in code_step(client, totp_code(app)).content.decode()
    clock.shift(seconds=1)
    assert code_step(client, totp_code(app))["Location"] == "/"
    app.refresh_from_db()
    assert app.throttling_failure_count == 0


def test_a_recovery_code_works_once(client, clinician_user):
    codes = recovery_codes_issue(user=clinician_user)
    password_step(client, "doc1")
    assert code_step(client, f" {codes[0].upper()} ")["Location"] == "/"
    assert StaticToken.objects.filter(device__user=clinician_user).count() == 9
    client.post(reverse("logout"))
    password_step(client, "doc1")
    assert code_step(client, codes[0]).status_code == 200
    assert not is_verified_session(client)
    StaticDevice.objects.filter(user=clinician_user).update(throttling_failure_count=0)
    assert code_step(client, codes[1]).status_code == 302
    assert is_verified_session(client)


def test_new_recovery_codes_replace_the_old_ones(client, manager_user):
    old = recovery_codes_issue(user=manager_user)
    client.sign_in(manager_user)
    page = client.post(reverse("two-factor-recovery-codes")).content.decode()
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)
    assert len(new) == 10 and not set(new) & set(old)
    assert second_factor_check(user=manager_user, code=new[2]).passed
    assert not second_factor_check(user=manager_user, code=old[2]).passed


# --- An unverified session reaches nothing ------------------------------------------------------


def concrete_paths(patterns, prefix: str = "") -> list[str]:
    """Every route of the URLconf with a made-up value for each parameter (regex routes,
    which only the admin and static serving use, are covered by its own index below)."""
    values = {"uuid": str(uuid.uuid4()), "int": "1", "path": "x", "slug": "x", "str": "x"}
    found = []
    for entry in patterns:
        route = getattr(entry.pattern, "_route", None)
        if route is None:
            continue
        for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", route):
            route = route.replace(
                f"<{converter}:{name}>" if converter else f"<{name}>", values[converter or "str"]
            )
        if isinstance(entry, URLResolver):
            found += concrete_paths(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            found.append("/" + prefix + route)
    return found


def test_an_unverified_staff_session_gets_no_page_and_no_api_answer(client, manager_user):
    client.force_login(manager_user)  # the password, not yet the code
    open_paths = {reverse(name) for name in OPEN_URL_NAMES} | {"/healthz"}  # no data there
    paths = [p for p in concrete_paths(get_resolver().url_patterns) if p not in open_paths]
    paths += ["/admin/", "/admin/patients/patient/"]
    assert len(paths) > 100
    for path in paths:
        response = client.get(path)
        if path.startswith("/api/"):
            assert response.status_code == 403, path
            assert response.json() == {
                "code": "second_factor_required",
                "detail": response.json()["detail"],
                "fields": {},
            }, path
        else:
            assert response.status_code == 302, path
            assert response["Location"].startswith(f"{VERIFY}?next="), path
    posted = client.post("/api/v1/appointments/", {}, content_type="application/json")
    assert posted.status_code == 403 and posted.json()["code"] == "second_factor_required"
    assert client.post("/patients/", {"q": "Smith"})["Location"] == VERIFY


def test_a_patient_without_two_step_sign_in_is_not_asked(client, patient_user):
    assert password_step(client, "pat1") == "/"
    assert client.get("/portal/").status_code == 200
    assert (
        APIClient()
        .post(TOKEN_URL, {"username": "pat1", "password": TEST_PASSWORD}, format="json")
        .status_code
        == 200
    )


# --- The admin: the same sign-in -------------------------------------------------------------


def test_the_admin_sign_in_is_the_clinic_sign_in_page(client, manager_user):
    response = client.get("/admin/login/?next=/admin/patients/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/admin/patients/"
    walked = client.get("/admin/", follow=True)
    assert walked.redirect_chain[-1][0].startswith(f"{LOGIN}?next=")
    # The admin's own form is gone: posting credentials to it signs nobody in.
    client.post("/admin/login/", {"username": "boss1", "password": TEST_PASSWORD})
    assert "_auth_user_id" not in client.session


def test_the_admin_needs_the_second_factor(client, manager_user):
    assert password_step(client, "boss1", "/admin/") == "/admin/"
    assert client.get("/admin/")["Location"] == f"{VERIFY}?next={quote('/admin/', '')}"
    assert code_step(client, totp_code(app_of(manager_user)), "/admin/")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_site_refuses_a_staff_user_whose_session_is_not_verified(manager_user):
    request = RequestFactory().get("/admin/")
    request.user = manager_user
    manager_user.is_verified = lambda: False
    assert not admin.site.has_permission(request)
    manager_user.is_verified = lambda: True
    assert admin.site.has_permission(request)


def test_signed_in_without_admin_rights_the_admin_login_is_a_403(client, front_desk_user):
    client.sign_in(front_desk_user)
    assert client.get("/admin/login/?next=/admin/").status_code == 403


# --- The token API ---------------------------------------------------------------------------


def token_answer(username: str, **extra):
    data = {"username": username, "password": TEST_PASSWORD, **extra}
    return APIClient().post(TOKEN_URL, data, format="json")


def test_the_token_api_asks_staff_for_the_code(front_desk_user):
    missing = token_answer("desk1")
    assert missing.status_code == 400
    assert list(missing.json()["fields"]) == ["otp"]
    wrong = token_answer("desk1", otp="000000")
    assert wrong.status_code == 400 and list(wrong.json()["fields"]) == ["otp"]
    app = app_of(front_desk_user)
    app.throttle_reset()
    right = token_answer("desk1", otp=totp_code(app))
    assert right.status_code == 200 and right.json()["token"]


def test_the_token_api_takes_a_recovery_code_once(clinician_user):
    code = recovery_codes_issue(user=clinician_user)[0]
    assert token_answer("doc1", otp=code).status_code == 200
    again = token_answer("doc1", otp=code)
    assert again.status_code == 400 and "otp" in again.json()["fields"]


def test_a_wrong_password_with_a_right_code_is_still_refused(front_desk_user):
    data = {"username": "desk1", "password": "wrong", "otp": totp_code(app_of(front_desk_user))}
    response = APIClient().post(TOKEN_URL, data, format="json")
    assert response.status_code == 400 and response.json()["fields"] == {}


# --- Patients may turn it on -----------------------------------------------------------------


def test_a_patient_turns_on_an_app_and_is_then_asked_for_its_code(client, patient_user):
    client.sign_in(patient_user)
    page = client.get(SETTINGS_PAGE).content.decode()
    assert "<h1>Two-step sign-in</h1>" in page and "Two-step sign-in is off" in page
    client.get(SETUP)
    pending = TOTPDevice.objects.get(user=patient_user, confirmed=False)
    assert client.post(SETUP, {"code": totp_code(pending)}).status_code == 200
    assert "Recovery codes left</dt>\n    <dd>10" in client.get(SETTINGS_PAGE).content.decode()
    client.post(reverse("logout"))

    password_step(client, "pat1")
    assert client.get("/portal/")["Location"].startswith(VERIFY)
    assert code_step(client, "999999").status_code == 200
    assert token_answer("pat1").status_code == 400
    app_of(patient_user).throttle_reset()
    assert code_step(client, totp_code(app_of(patient_user)))["Location"] == "/"
    assert client.get("/portal/").status_code == 200

    client.post(reverse("two-factor-turn-off"))
    assert not TOTPDevice.objects.filter(user=patient_user).exists()
    assert not StaticDevice.objects.filter(user=patient_user).exists()
    client.post(reverse("logout"))
    password_step(client, "pat1")
    assert client.get("/portal/").status_code == 200


def test_staff_cannot_turn_the_second_step_off(client, clinician_user):
    client.sign_in(clinician_user)
    response = client.post(reverse("two-factor-turn-off"), follow=True)
    assert "always sign in with a second step" in response.content.decode()
    assert TOTPDevice.objects.filter(user=clinician_user, confirmed=True).exists()


# --- The demo logins --------------------------------------------------------------------------


def test_the_demo_staff_have_an_app_whose_key_seed_demo_prints():
    out = StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--patients", "3", "--password", "demo-pass-1", stdout=out)
    printed = out.getvalue()
    for username in ("admin", "frontdesk", "physician"):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        key = re.search(rf"{username}\s+key: ([A-Z2-7 ]+)\n", printed).group(1)
        assert b32decode(key.replace(" ", "")) == device.bin_key
        assert f"manage.py demo_totp {username}" in printed
        assert f"otpauth://totp/Clinic%3A{username}?secret=" in printed
    assert not TOTPDevice.objects.filter(user__username="patient").exists()

    code = StringIO()
    with override_settings(DEBUG=True):
        call_command("demo_totp", "frontdesk", stdout=code)
    frontdesk = TOTPDevice.objects.get(user__username="frontdesk")
    expected = TOTP(frontdesk.bin_key).token()
    assert code.getvalue().strip() == f"{expected:06d}"
    assert second_factor_check(user=frontdesk.user, code=code.getvalue()).passed

    # Seeding again keeps each app's key (an app set up once keeps working).
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--patients", "3", "--password", "demo-pass-2", stdout=out)
    assert TOTPDevice.objects.get(user__username="frontdesk").key == frontdesk.key


def test_demo_totp_refuses_with_debug_off(front_desk_user):
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DEBUG on"):
        call_command("demo_totp", "desk1")


# --- Queries --------------------------------------------------------------------------------


def test_the_second_step_and_the_settings_page_run_a_fixed_number_of_queries(
    client, front_desk_user, django_assert_num_queries
):
    recovery_codes_issue(user=front_desk_user)
    client.force_login(front_desk_user)
    # session, user; the user's apps (has the user any device: the first kind answers);
    # passkeys (is there one to offer); groups (role, for the page's layout)
    with django_assert_num_queries(5):
        assert client.get(VERIFY).status_code == 200
    client.sign_in(front_desk_user)
    # session, user, the second factor's device, groups (role); the app, passkeys, recovery
    # codes and how many are left
    with django_assert_num_queries(8):
        assert client.get(SETTINGS_PAGE).status_code == 200


def test_the_check_stands_in_every_settings_module_and_nothing_turns_it_off(settings):
    """Production and the tests inherit base.py's middleware; no setting switches it off."""
    from pathlib import Path

    order = [
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django_otp.middleware.OTPMiddleware",
        "clinic.users.middleware.RequireSecondFactorMiddleware",
    ]
    positions = [settings.MIDDLEWARE.index(name) for name in order]
    assert positions == sorted(positions)
    folder = Path(__file__).resolve().parents[2] / "settings"
    for module in ("production.py", "test.py", "local.py"):
        text = (folder / module).read_text()
        assert not re.search(r"^MIDDLEWARE\s*=|OTP", text, re.MULTILINE), module


def test_a_spanish_patients_passkey_page_carries_spanish_status_words(client, make_user):
    from patients.tests.factories import PatientFactory

    user = make_user("paciente", Role.PATIENT)
    PatientFactory(user=user, language="es")
    client.sign_in(user)
    page = client.get(reverse("two-factor-settings")).content.decode()
    assert (
        'data-state-error="Este dispositivo ya tiene una llave de acceso para su cuenta."' in page
    )
    assert 'data-success="Se agregó la llave de acceso."' in page
    assert "/static/js/passkeys.js" in page
    catalog = client.get(reverse("otp_webauthn:js-i18n-catalog")).content.decode()
    assert '"Registrando\\u2026"' in catalog or '"Registrando…"' in catalog
