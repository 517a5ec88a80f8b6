"""A manager imports patients from a CSV in Chromium: upload, the dry run's report, confirm,
and the progress bar polling a real Celery worker (through the real broker) until done."""

import contextlib
import csv
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Error as PlaywrightError

from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.models import Patient
from patients.tests.factories import PatientFactory
from tests import brokers
from tests.browser.conftest import VIEWPORTS, screenshot
from tests.browser.test_login import sign_in
from tests.support import artifacts, celery, child_env, kill, start, wait_for
from tests.test_notifications_delivery import child_database_url

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 300


def write_csv(path) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["legal_first_name", "legal_last_name", "date_of_birth", "email"])
        for i in range(ROWS - 1):
            born = date(1950, 1, 1) + timedelta(days=11 * i)
            writer.writerow(
                [f"Browser{i:03d}", f"Import{i:03d}", born.isoformat(), f"b{i}@example.net"]
            )
        writer.writerow(["", "Nameless", "1970-01-01", ""])


@pytest.fixture
def import_worker(settings):
    """A worker on a queue of its own, on the test's database; the pages send imports there."""
    queue = f"imports-{uuid.uuid4().hex[:8]}"
    settings.IMPORTS_QUEUE = queue
    log_path = artifacts("logs", "celery-imports-worker.log")
    env = child_env(
        DJANGO_SETTINGS_MODULE="clinic.settings.test", DATABASE_URL=child_database_url()
    )
    args = ["worker", "--queues", queue, "--concurrency", "1", "--hostname", f"{queue}@%h"]
    worker = start(
        celery(*args, "--loglevel", "INFO", "--without-gossip", "--without-mingle"), env, log_path
    )
    try:
        wait_for(
            lambda: " ready." in log_path.read_text(errors="replace"),
            timeout=90,
            what="the worker",
            process=worker,
        )
        yield queue
    finally:
        kill(worker)  # its warm shutdown would prove nothing here
        brokers.delete_queues(queue)


def note_status(response, seen: list[dict]) -> None:
    """The figures of each status poll the page made (the last one's body may be gone: the
    page reloads as soon as it reads "done")."""
    if "/status/" not in response.url or not response.ok:
        return
    with contextlib.suppress(PlaywrightError):
        seen.append(response.json())


def test_upload_dry_run_confirm_and_the_bar_reaches_done(
    browser, live_server, make_user, import_worker, tmp_path
):
    make_user("importboss", Role.MANAGER, first_name="Ines")
    PatientFactory(
        legal_first_name="Browser001", legal_last_name="Import001", date_of_birth=date(1950, 1, 12)
    )
    PatientFactory(email="b7@example.net")
    file = tmp_path / "patients.csv"
    write_csv(file)
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.viewport_name = "desktop"  # as the `page` fixture names it, for the screenshots
    try:
        sign_in(page, live_server.url, "importboss", TEST_PASSWORD)
        page.goto(f"{live_server.url}/manage/imports/")
        page.get_by_label("What the file holds").select_option("patients")
        page.get_by_label("CSV file").set_input_files(str(file))
        with page.expect_navigation():
            page.get_by_role("button", name="Check the file").click()

        assert page.get_by_role("heading", name="Dry run: nothing has been written").is_visible()
        assert page.locator("[data-count=create]").inner_text() == str(ROWS - 3)
        assert page.locator("[data-count=matched]").inner_text() == "2"
        assert page.locator("[data-count=refused]").inner_text() == "1"
        assert Patient.objects.count() == 2, "the dry run wrote nothing"
        screenshot(page, "import-dry-run")

        seen: list[dict] = []
        page.on("response", lambda response: note_status(response, seen))
        page.get_by_role("button", name=f"Import the {ROWS - 3} rows to create").click()
        page.get_by_role("heading", name="Done").wait_for(timeout=180_000)

        percents = [status["percent"] for status in seen]
        assert len(set(percents)) > 1, f"the bar moved while the worker ran: {percents}"
        assert percents == sorted(percents)
        assert page.locator("progress").get_attribute("value") == "100"
        assert page.locator("[data-count=created]").inner_text() == str(ROWS - 3)
        assert Patient.objects.count() == 2 + ROWS - 3
        screenshot(page, "import-done")
    finally:
        context.close()
