import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.tests.factories import PatientFactory
from tests.browser.test_login import sign_in
from tests.browser.test_portal_journey import ZONE, choose_time, go_to_day, site  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_debug(page, live_server, site, make_user):  # noqa: F811
    if page.viewport_name != "phone":
        return
    url = live_server.url
    user = make_user("rosa", Role.PATIENT)
    PatientFactory(user=user, legal_first_name="Rosa", home_location=site["location"])
    sign_in(page, url, "rosa", TEST_PASSWORD)
    day = timezone.now().astimezone(ZoneInfo(ZONE)).date() + timedelta(days=3)
    page.goto(f"{url}/portal/book/")
    page.get_by_role("radio", name="Follow-up").check()
    page.get_by_label("Where").select_option(label="Foothills Pain Center")
    page.get_by_role("button", name="See free times").click()
    go_to_day(page, day)
    t = choose_time(page, day, 2)
    print("TIME", t, page.url)
    page.screenshot(path="/tmp/picker2-before.png", full_page=True)
    btn = page.get_by_role("button", name="Book this time")
    print("BOX", btn.bounding_box(), page.evaluate("[window.scrollY, innerHeight]"))
    print("CHECKED", page.evaluate("[...document.querySelectorAll('input[name=slot]:checked')].map(e=>[e.id,e.value, e.closest('section').id])"))
    print("FORMVALID", page.evaluate("document.querySelector('form.week').checkValidity()"))
    btn.click()
    page.wait_for_timeout(3000)
    print("AFTER", page.url)
    page.screenshot(path="/tmp/picker2-after.png", full_page=True)
