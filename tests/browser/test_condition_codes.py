"""A clinician opens a chart in Chromium: each condition shows its ICD-10-CM code, and a
code outside the clinic's list carries the "not in the clinic's list" badge."""

import pytest

from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.icd10 import NOT_IN_LIST
from patients.models import Condition, ConditionKind
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_chart_shows_codes_and_flags_one_outside_the_list(page, live_server, make_user):
    from patients.tests.factories import PatientFactory

    make_user("drcode", Role.CLINICIAN, first_name="Cody")
    patient = PatientFactory(legal_first_name="Ines", legal_last_name="Marlow")
    Condition.objects.create(
        patient=patient, kind=ConditionKind.OTHER, description="Sciatica", icd10_code="M54.16"
    )
    Condition.objects.create(
        patient=patient, kind=ConditionKind.DIABETES, description="Type 2", icd10_code="E11.9"
    )

    sign_in(page, live_server.url, "drcode", TEST_PASSWORD)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")

    items = page.locator("section[aria-labelledby=conditions] li")
    listed = items.filter(has_text="M54.16")
    unlisted = items.filter(has_text="E11.9")
    assert listed.count() == 1 and unlisted.count() == 1
    assert listed.locator(".badge").count() == 0
    assert unlisted.locator(".badge.warn").inner_text() == NOT_IN_LIST
    screenshot(page, "chart-condition-codes")
