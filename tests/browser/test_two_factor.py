"""Two-step sign-in in Chromium: a staff member signs in with the code of their authenticator
app; a new one sets the app up from the page's key at first sign-in and saves recovery codes;
a passkey made on Chromium's virtual authenticator (over CDP) then does the second step."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in
from tests.signin import totp_code_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def password_step(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_staff_sign_in_with_the_code_of_their_app(page, live_server, make_user):
    make_user("frontdesk", Role.FRONT_DESK)
    password_step(page, live_server.url, "frontdesk")
    assert page.url.startswith(f"{live_server.url}/accounts/two-factor/")
    assert page.get_by_role("heading", level=1).inner_text() == "Second step"
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link").count() == 0, "nothing to reach yet"
    screenshot(page, "two-factor-verify")

    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Verify").click()
    assert "not right" in page.get_by_role("alert").inner_text()

    # A wrong code makes the next try wait a second (clinic/users/tests cover that wait).
    TOTPDevice.objects.filter(user__username="frontdesk").update(throttling_failure_count=0)
    page.get_by_label("Code", exact=True).fill(totp_code_for("frontdesk"))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/desk/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Day board")


def test_a_new_staff_member_sets_up_the_app_at_first_sign_in(page, live_server, make_user):
    make_user("newdoc", Role.CLINICIAN, second_factor=False)
    password_step(page, live_server.url, "newdoc")
    page.wait_for_url(f"{live_server.url}/accounts/two-factor/setup/**")
    assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
    screenshot(page, "two-factor-setup")
    # What a person types into their app by hand, and the code the app then shows.
    key = b32decode(page.locator("#totp-secret").inner_text().replace(" ", ""))
    page.get_by_label("Code from the app").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Confirm").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Your recovery codes"
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    screenshot(page, "two-factor-recovery-codes")
    page.get_by_role("link", name="I have saved them, continue").click()
    page.wait_for_url(f"{live_server.url}/history/worklist/")
    assert TOTPDevice.objects.get(user__username="newdoc").confirmed


def add_virtual_authenticator(page) -> None:
    """Chromium's virtual authenticator: a platform passkey that says yes by itself."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})


def passkey_script_ready(page) -> None:
    """django-otp-webauthn's button script also needs its translation catalog, an async
    script: both have run once the page's load event has fired."""
    page.wait_for_load_state("load")


def test_a_passkey_added_on_the_page_does_the_second_step(page, live_server, make_user, settings):
    settings.OTP_WEBAUTHN_RP_ID = "localhost"  # a passkey's domain is never an IP address
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    make_user("frontdesk", Role.FRONT_DESK)
    add_virtual_authenticator(page)
    sign_in(page, live_server.url, "frontdesk", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/desk/")

    page.get_by_role("link", name="Two-step sign-in").click()
    page.wait_for_url(f"{live_server.url}/accounts/two-step/")
    passkey_script_ready(page)
    with page.expect_navigation():  # the page reloads to list the new passkey
        page.get_by_role("button", name="Add a passkey").click()
    assert WebAuthnCredential.objects.filter(user__username="frontdesk").count() == 1
    screenshot(page, "two-factor-settings")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    password_step(page, live_server.url, "frontdesk")
    assert page.url.startswith(f"{live_server.url}/accounts/two-factor/")
    passkey_script_ready(page)
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(f"{live_server.url}/desk/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Day board")


def test_a_spanish_patient_reads_the_passkey_messages_in_spanish(
    page, live_server, make_user, settings
):
    """The library's own labels come from its catalog in the page's language; its status
    messages give way to the page's words, which the template translates."""
    from patients.tests.factories import PatientFactory

    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    PatientFactory(user=make_user("paciente", Role.PATIENT), language="es")
    add_virtual_authenticator(page)
    sign_in(page, live_server.url, "paciente", TEST_PASSWORD)
    page.goto(f"{live_server.url}/accounts/two-step/")
    passkey_script_ready(page)
    assert page.evaluate("gettext('Registering...')") == "Registrando…"
    add = page.get_by_role("button", name="Agregar una llave de acceso")
    with page.expect_navigation():  # the page reloads to list the new passkey
        add.click()
    assert WebAuthnCredential.objects.filter(user__username="paciente").count() == 1

    passkey_script_ready(page)
    page.get_by_role("button", name="Agregar una llave de acceso").click()  # the same device
    status = page.locator("#passkey-register-status-message")
    status.filter(has_text="Este dispositivo ya tiene una llave de acceso").wait_for()
    assert status.get_attribute("data-status-enum") == "state-error"
    assert "Passkey" not in status.inner_text()
