"""Each demo role signs in through the real login page and lands on its own home page."""

import pytest
from playwright.sync_api import expect

from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from tests.browser.conftest import screenshot
from tests.signin import totp_code_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLE_HOMES = [
    ("frontdesk", Role.FRONT_DESK, "/desk/", "Day board"),
    ("physician", Role.CLINICIAN, "/history/worklist/", "Worklist"),
    ("admin", Role.MANAGER, "/manage/", "Clinic overview"),
    ("patient", Role.PATIENT, "/portal/", "Welcome"),
]


@pytest.fixture
def demo_users(make_user):
    from patients.tests.factories import PatientFactory

    users = {username: make_user(username, role) for username, role, _, _ in ROLE_HOMES}
    PatientFactory(user=users["patient"], legal_first_name="Rosa")
    return users


def sign_in(page, base_url: str, username: str, password: str) -> None:
    """Through the real sign-in page, then (staff, or a patient who turned it on) the second
    step, with the code the user's authenticator app would show now."""
    page.goto(f"{base_url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if "/accounts/two-factor/" in page.url:
        page.get_by_label("Code", exact=True).fill(totp_code_for(username))
        with page.expect_navigation():
            page.get_by_role("button", name="Verify").click()


@pytest.mark.parametrize(("username", "role", "home", "heading"), ROLE_HOMES)
def test_each_role_lands_on_its_home(page, live_server, demo_users, username, role, home, heading):
    sign_in(page, live_server.url, username, TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}{home}")
    assert page.get_by_role("heading", level=1).inner_text().startswith(heading)
    assert page.locator("body").get_attribute("data-role") == role
    nav = page.get_by_role("navigation", name="Main")
    assert nav.is_visible()
    screenshot(page, f"home-{username}")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    page.goto(f"{live_server.url}{home}")
    assert page.url.startswith(f"{live_server.url}/accounts/login/"), "signed out for real"


def test_wrong_password_keeps_the_user_on_the_form(page, live_server, demo_users):
    sign_in(page, live_server.url, "frontdesk", "not-the-password")
    alert = page.get_by_role("alert")
    assert "correct username and password" in alert.inner_text()
    assert page.get_by_label("Username").input_value() == "frontdesk"
    screenshot(page, "login-error")


def test_login_works_from_the_keyboard(page, live_server, demo_users):
    page.goto(f"{live_server.url}/accounts/login/")
    # Chromium applies `autofocus` at its next rendering step, which on a busy machine can
    # come after the load event: wait for the focus itself before typing.
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("frontdesk")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/accounts/two-factor/**")
    expect(page.get_by_label("Code", exact=True)).to_be_focused()
    page.keyboard.type(totp_code_for("frontdesk"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/desk/")
