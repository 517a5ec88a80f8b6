"""The outcomes registry's own pages in Chromium: a clinician opens the patients behind a
registry row (the page names them; the address does not), and a manager downloads the
de-identified research export, which holds none of the patient's identifiers."""

from pathlib import Path

import pytest

from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from reports.models import ResearchExport
from reports.outcomes import outcomes_report
from reports.tests.outcome_data import FILTERS, seed_clinic
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clinician_opens_the_patients_behind_a_row(page, live_server, make_user):
    make_user("drregistry", Role.CLINICIAN)
    clinic = seed_clinic()
    rows = next(t for t in outcomes_report(FILTERS).tables if t.key == "procedures").rows
    link = next(r for r in rows if r["group"] == "Acme Health")["patients_url"]
    sign_in(page, live_server.url, "drregistry", TEST_PASSWORD)
    page.goto(f"{live_server.url}{link}")
    assert page.get_by_role("heading", level=1).inner_text() == "Patients behind the figures"
    table = page.locator('[data-table="outcome-patients"]')
    assert clinic.lumbar_1.patient.mrn in table.inner_text()
    assert "Vasovagal episode" in table.inner_text()
    assert clinic.lumbar_1.patient.mrn not in page.url
    assert clinic.lumbar_1.patient.legal_last_name not in page.url
    screenshot(page, "outcome-patients")


def test_a_manager_downloads_the_research_export(page, live_server, make_user, tmp_path: Path):
    make_user("mgrresearch", Role.MANAGER)
    clinic = seed_clinic()
    sign_in(page, live_server.url, "mgrresearch", TEST_PASSWORD)
    page.goto(f"{live_server.url}/reports/research/export/")
    page.get_by_label("Start (procedures performed)").fill("2025-01-01")
    page.get_by_label("End (procedures performed)").fill("2025-03-31")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / "export.csv"
    download_info.value.save_as(saved)
    text = saved.read_text()
    assert text.startswith("study_id,age,sex,state")
    assert len(text.strip().splitlines()) == 1 + 4  # the header and the four procedures
    for record in (clinic.lumbar_1, clinic.lumbar_2, clinic.cervical_1, clinic.cervical_0):
        patient = record.patient
        for value in (patient.mrn, patient.legal_last_name, patient.email, patient.phone):
            assert value not in text
    page.reload()
    assert "mgrresearch" in page.locator('[data-table="research-exports"]').inner_text()
    assert ResearchExport.objects.get().rows == 4
    screenshot(page, "research-export")
