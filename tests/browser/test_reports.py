"""A manager opens every registered report (the operations reports and the outcomes
registry alike, by iterating the registry) in Chromium: each plot is drawn, the page breaks
no Content-Security-Policy rule, and printed to PDF the report fills exactly one page.
Screenshots are kept in artifacts/screenshots/ (report-<name>-*)."""

import re

import pytest

from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from reports.registry import REPORTS
from reports.tests import clinic as operations_clinic
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in
from tests.support import artifacts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _date_ranges() -> list[tuple[str, str]]:
    """The small clinics' date ranges; the outcomes' clinic only where its module exists."""
    ranges = [(operations_clinic.START.isoformat(), operations_clinic.END.isoformat())]
    try:
        from reports.tests import outcome_data
    except ImportError:
        return ranges
    outcome_data.seed_clinic()
    return [*ranges, (outcome_data.START.isoformat(), outcome_data.END.isoformat())]


@pytest.fixture
def seeded(make_user):
    make_user("reportboss", Role.MANAGER, first_name="Mona")
    operations_clinic.build_small_clinic()
    return _date_ranges()


def _pages_in(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_every_report_draws_its_plots_and_prints_on_one_page(page, live_server, seeded):
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Refused" in message.text else None,
    )
    sign_in(page, live_server.url, "reportboss", TEST_PASSWORD)
    assert REPORTS, "reports are registered when Django starts"
    for name in REPORTS:
        drawn = 0
        for start, end in seeded:
            page.goto(f"{live_server.url}/reports/{name}/?start={start}&end={end}")
            canvases = page.locator("canvas[data-chart]")
            if canvases.count() == 0:
                continue  # no figures in this range: the empty state, no plot
            for index in range(canvases.count()):
                canvas = canvases.nth(index)
                canvas.scroll_into_view_if_needed()
                page.wait_for_function(
                    "c => c.dataset.rendered === 'true'", arg=canvas.element_handle()
                )
                box = canvas.bounding_box()
                assert box["width"] > 150 and box["height"] > 100, name
            drawn = canvases.count()
            screenshot(page, f"report-{name}")
            if page.viewport_name == "desktop":
                page.emulate_media(media="print")  # reports.js fits the report to a page
                pdf = page.pdf(prefer_css_page_size=True)
                page.emulate_media(media="screen")
                artifacts("prints", f"report-{name}.pdf").write_bytes(pdf)
                assert _pages_in(pdf) == 1, f"{name} prints on {_pages_in(pdf)} pages"
            break
        assert drawn, f"{name}: no range of the small clinics drew its plots"
    assert problems == []
