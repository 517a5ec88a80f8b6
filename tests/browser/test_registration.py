"""Registration and password reset in a real browser, phone-sized and desktop.

Proposed home: tests/browser/test_registration.py (written by the portal-accounts helper,
who may not edit tests/; move it there as is)."""

import re

import pytest
from django.core import mail

from clinic.users.roles import Role
from patients.models import Patient
from patients.tests.factories import PatientFactory
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOGIN = "/accounts/login/"
REGISTER = "/accounts/register/"
NEW_PASSWORD = "violet-harbor-lantern-42"
VERIFY_LINK = re.compile(r"https?://[^\s/]+(/accounts/verify/[\w-]+/)")


def verify_path(message) -> str:
    return VERIFY_LINK.search(message.body).group(1)


@pytest.fixture
def known_user(make_user):
    user = make_user("known-patient", Role.PATIENT, email="known@example.org", first_name="Kim")
    PatientFactory(user=user, email="known@example.org")
    return user


def test_a_patient_registers_in_the_browser(page, live_server):
    """Labels find every input, errors are shown next to their field, nothing scrolls
    sideways at 390 px, and the confirmation works from the keyboard."""

    def fits_the_screen() -> bool:
        return page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )

    page.goto(f"{live_server.url}{LOGIN}")
    page.get_by_role("link", name="Create an account").click()
    page.wait_for_url(f"{live_server.url}{REGISTER}")
    assert fits_the_screen()
    page.get_by_label("Legal first name").fill("Rosa")
    page.get_by_label("Legal last name").fill("Parks")
    page.get_by_label("Date of birth").fill("1961-02-04")
    page.get_by_label("Email address").fill("rosa@example.org")
    page.get_by_label("Text message").check()
    page.get_by_role("group", name="May we send you text messages?").get_by_label("Yes").check()
    page.get_by_role("group", name="May we send you email?").get_by_label("No").check()
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()

    page.wait_for_load_state()
    assert page.title().startswith("Error:")
    phone = page.get_by_label("Mobile or home phone (optional)")
    assert phone.get_attribute("aria-invalid") == "true"
    assert "Enter a phone number" in page.locator("#id_phone_error").inner_text()
    assert page.locator(".error-summary").is_visible()
    assert fits_the_screen()
    screenshot(page, "register-errors")

    phone.fill("(919) 555-0177")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{live_server.url}/accounts/register/sent/")
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"

    page.goto(live_server.url + verify_path(mail.outbox[-1]))
    assert fits_the_screen()
    page.get_by_role("button", name="Confirm and create my account").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/portal/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Rosa"
    assert Patient.objects.get(user__email="rosa@example.org").needs_verification


def test_a_patient_resets_the_password_in_the_browser(page, live_server, known_user):
    page.goto(f"{live_server.url}{LOGIN}")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address").fill("known@example.org")
    page.get_by_role("button", name="Send the link").click()
    page.wait_for_url(f"{live_server.url}/accounts/password-reset/sent/")
    link = re.search(r"https?://\S+?(/accounts/password-reset/\S+/)", mail.outbox[-1].body)
    page.goto(live_server.url + link.group(1))
    page.get_by_label("New password", exact=True).fill("plum-orbit-ladder-9")
    page.get_by_label("Repeat the new password").fill("plum-orbit-ladder-9")
    page.get_by_role("button", name="Save the new password").click()
    page.wait_for_url(f"{live_server.url}/accounts/password-reset/complete/")
    page.get_by_role("link", name="Sign in").last.click()
    page.get_by_label("Email or username").fill("known-patient")
    page.get_by_label("Password").fill("plum-orbit-ladder-9")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/portal/")
