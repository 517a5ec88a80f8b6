"""A clinician opens a patient's history in Chromium: the chart draws one line per body
region and measure, one named marker per procedure, across its card's width, and printing
leaves only the referral summary. Screenshots are kept in artifacts/screenshots/
(history-chart-*, history-print-*)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.models import Assessment
from procedures.catalog import load_reference_data
from procedures.tests.factories import record
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NRS = [(200, 8), (150, 7), (90, 3), (30, 5)]  # (days ago, score)
LEG = [(200, 6), (150, 6), (90, 2), (30, 3)]
ODI = [(200, 48), (60, 30)]
PROCEDURES = [(160, "tfesi_ls", 60), (45, "tfesi_ls", 70)]  # (days ago, code, percent relief)


@pytest.fixture
def treated_patient(make_user):
    """A patient with four NRS scores, two ODI scores and two epidurals."""
    from patients.tests.factories import PatientFactory

    load_reference_data(apps)  # transactional tests empty the tables the migrations filled
    make_user("drhist", Role.CLINICIAN, first_name="Hana")
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
    now = timezone.now()
    for days_ago, score in NRS:
        Assessment.objects.create(
            patient=patient,
            instrument="nrs",
            body_region="low_back",
            items={"score": score},
            total=Decimal(score),
            taken_at=now - timedelta(days=days_ago),
        )
    for days_ago, score in LEG:  # the same days as the low back: a second line, not a zigzag
        Assessment.objects.create(
            patient=patient,
            instrument="nrs",
            body_region="leg",
            items={"score": score},
            total=Decimal(score),
            taken_at=now - timedelta(days=days_ago),
        )
    for days_ago, score in ODI:
        Assessment.objects.create(
            patient=patient,
            instrument="odi",
            items={},
            total=Decimal(score),
            taken_at=now - timedelta(days=days_ago),
        )
    today = timezone.localdate()
    for days_ago, code, relief in PROCEDURES:
        record(
            patient,
            code,
            days_ago,
            relief=relief,
            today=today,
            side="left",
            levels=["L5-S1"],
            steroid="dexamethasone",
            dose=10,
        )
    return patient


def test_the_history_chart_draws_and_prints_a_summary(page, live_server, treated_patient):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server.url, "drhist", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/history/worklist/")
    page.goto(f"{live_server.url}/patients/{treated_patient.pk}/history/")

    chart = page.locator('#history-chart[data-rendered="true"]')
    chart.wait_for()
    assert chart.get_attribute("data-procedure-markers") == "2"
    assert chart.get_attribute("data-procedure-labels") == "2"  # each named on the chart
    # Low back, leg and ODI: one line each, each in the legend.
    assert chart.get_attribute("data-datasets") == "3"
    legend = page.evaluate(
        "() => Chart.getChart('history-chart').legend.legendItems.map((i) => i.text)"
    )
    assert legend == [
        "Procedures",  # drawn above the lines, so listed first
        "Pain, low back (NRS 0-10)",
        "Pain, leg or foot (NRS 0-10)",
        "Oswestry Disability Index (%)",
    ]
    box = chart.bounding_box()
    assert box["width"] > 200 and box["height"] > 150
    card = page.locator("section[aria-labelledby='chart-heading']").bounding_box()
    assert box["width"] >= card["width"] - 60  # the card's width, less its padding
    assert box["x"] + box["width"] <= page.viewport_size["width"]  # no sideways scrolling
    assert errors == []
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # let the chart's short animation end before the screenshot
    screenshot(page, "history-chart")

    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden()
    assert page.get_by_role("navigation", name="Main").is_hidden()
    assert page.locator(".print-summary").first.is_visible()
    assert page.locator("main .no-print").first.is_hidden()
    assert page.locator("main button, main form").first.is_hidden()
    screenshot(page, "history-print")
