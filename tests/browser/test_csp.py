"""Every role's main pages run under the strict Content-Security-Policy in Chromium without a
single violation: the desk's day board and its calendar views (EventCalendar), the booking
page, the chart and the history with its Chart.js plot, the portal's home and booking, the
manager's overview, the admin and the API docs (Swagger UI from the sidecar).

A script added before any page's own records each `securitypolicyviolation` event into
window.__csp; the console's "Refused to ..." lines are collected beside it."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.users.actor import Actor
from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.models import Assessment
from patients.tests.factories import PatientFactory
from procedures.catalog import load_reference_data
from procedures.tests.factories import record
from scheduling.models import WorkingHours
from scheduling.services import appointment_book
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from tests.browser.test_login import sign_in
from tests.signin import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1366, "height": 768}
ZONE = ZoneInfo("America/Chicago")

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber} ${event.sample}`
  );
});
"""


class CspWatch:
    """A desktop page whose every document records its CSP violations."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context(viewport=DESKTOP)
        self.context.set_default_timeout(15_000)
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.refused: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        if "Refused to" in message.text or "Content Security Policy" in message.text:
            self.refused.append(f"{self.page.url}: {message.text}")

    def violations(self) -> list[str]:
        """This document's recorded violations and the console's refusals so far."""
        self.page.wait_for_load_state("networkidle")
        recorded = self.page.evaluate("() => window.__csp || []")
        return [f"{self.page.url}: {text}" for text in recorded] + self.refused

    def visit(self, url: str, ready: str = "main") -> list[str]:
        """Open `url`, wait for the `ready` selector, and return what the policy refused."""
        response = self.page.goto(url)
        assert response is not None and response.status == 200, f"{url}: {response}"
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        self.page.locator(ready).first.wait_for()
        return self.violations()


@pytest.fixture
def watch(browser):
    watch = CspWatch(browser)
    yield watch
    watch.context.close()


@pytest.fixture
def clinic(make_user):
    """A Chicago location where two physicians and two rooms work every day, a visit tomorrow
    at 9:00, a self-bookable follow-up, and a patient with scores and two epidurals."""
    load_reference_data(apps)  # transactional tests empty the tables the migrations filled
    desk = make_user("desk", Role.FRONT_DESK, first_name="Jordan")
    make_user("doc", Role.CLINICIAN, first_name="Hana")
    make_user("boss", Role.MANAGER, first_name="Morgan")
    location = LocationFactory(time_zone=ZONE.key, name="Lakeside Pain Center")
    providers = [
        ProviderFactory(locations=[location], first_name="Maya", last_name="Okafor"),
        ProviderFactory(locations=[location], first_name="Erik", last_name="Lind"),
    ]
    rooms = [RoomFactory(location=location, name=f"Consult {n}") for n in (1, 2)]
    WorkingHours.objects.bulk_create(
        WorkingHours(
            provider=provider,
            location=location,
            weekday=weekday,
            start_time=time(8),
            end_time=time(17),
        )
        for provider in providers
        for weekday in range(7)
    )
    kind = AppointmentTypeFactory(
        name="Follow-up", color="#2e7d32", patient_bookable=True, max_horizon_days=30
    )
    day = datetime.now(ZONE).date() + timedelta(days=1)
    patient = PatientFactory(
        user=make_user("pat", Role.PATIENT, first_name="Rosa"),
        legal_first_name="Rosa",
        legal_last_name="Tester",
    )
    appointment_book(
        patient=patient,
        appointment_type=kind,
        provider=providers[0],
        location=location,
        room=rooms[0],
        start=datetime.combine(day, time(9)).replace(tzinfo=ZONE),
        by=Actor.desk(desk),
    )
    now = timezone.now()
    for days_ago, score in [(200, 8), (90, 3), (30, 5)]:
        Assessment.objects.create(
            patient=patient,
            instrument="nrs",
            body_region="low_back",
            items={"score": score},
            total=Decimal(score),
            taken_at=now - timedelta(days=days_ago),
        )
    for days_ago in (160, 45):
        record(
            patient,
            "tfesi_ls",
            days_ago,
            relief=60,
            today=timezone.localdate(),
            side="left",
            levels=["L5-S1"],
            steroid="dexamethasone",
            dose=10,
        )
    return {"location": location, "day": day, "patient": patient}


def signed_in(watch: CspWatch, base_url: str, username: str, home: str) -> list[str]:
    sign_in(watch.page, base_url, username, TEST_PASSWORD)
    watch.page.wait_for_url(f"{base_url}{home}")
    return watch.violations()


def test_the_login_page_keeps_the_policy_and_a_violation_would_be_seen(watch, live_server):
    assert watch.visit(f"{live_server.url}/accounts/login/") == []
    # What an inline style in the markup would do: the listener records the refusal.
    watch.page.evaluate(
        """() => document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>')"""
    )
    watch.page.wait_for_function("() => window.__csp.length > 0")
    assert "style-src-attr" in " ".join(watch.violations())


def test_the_second_factor_pages_keep_the_policy(watch, live_server, make_user):
    """A new staff member's first sign-in (the QR code to scan), then the two-step settings
    with their passkey scripts."""
    make_user("newdesk", Role.FRONT_DESK, second_factor=False)
    url = live_server.url
    page = watch.page
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Username").fill("newdesk")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + reverse("two-factor-setup") + "**")
    page.locator(".qr-code svg").wait_for()
    seen = watch.violations()
    device = TOTPDevice.objects.get(user__username="newdesk")
    page.get_by_label("Code from the app").fill(totp_code(device))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", level=1).filter(has_text="recovery codes").wait_for()
    seen += watch.violations()
    seen += watch.visit(url + reverse("two-factor-settings"))
    assert seen == []


def test_the_desk_day_board_and_calendar_keep_the_policy(watch, live_server, clinic):
    url = live_server.url
    seen = signed_in(watch, url, "desk", "/desk/")
    board = f"{url}/desk/?location={clinic['location'].pk}&date={clinic['day']}"
    seen += watch.visit(board, ready=".ec-event.visit")
    page = watch.page
    page.get_by_role("button", name="Day · rooms").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.ec-col-head')].map(e => e.innerText)"
        ".join('|') === 'Consult 1|Consult 2'"
    )
    page.get_by_role("button", name="Week").click()
    page.get_by_role("button", name="Month").click()
    page.locator(".ec-event.day-load").first.wait_for()
    seen += watch.violations()
    for path in ("/desk/book/", "/desk/waitlist/", "/desk/refills/", "/patients/"):
        seen += watch.visit(url + path)
    assert seen == []


def test_the_chart_and_history_plot_keep_the_policy(watch, live_server, clinic):
    url = live_server.url
    patient = clinic["patient"]
    seen = signed_in(watch, url, "doc", "/history/worklist/")
    seen += watch.visit(f"{url}/patients/{patient.pk}/")
    seen += watch.visit(
        f"{url}/patients/{patient.pk}/history/", ready='#history-chart[data-rendered="true"]'
    )
    assert watch.page.locator("#history-chart").get_attribute("data-procedure-markers") == "2"
    seen += watch.visit(f"{url}/procedures/orders/")
    assert seen == []


def test_the_portal_home_and_booking_keep_the_policy(watch, live_server, clinic):
    url = live_server.url
    seen = signed_in(watch, url, "pat", "/portal/")
    seen += watch.visit(f"{url}/portal/book/")
    page = watch.page
    page.get_by_role("radio", name="Follow-up").check()
    page.get_by_label("Where").select_option(label="Lakeside Pain Center")
    page.get_by_role("button", name="See free times").click()
    page.get_by_role("navigation", name="Weeks").wait_for()
    seen += watch.violations()
    seen += watch.visit(f"{url}/portal/appointments/")
    seen += watch.visit(f"{url}/portal/intake/")
    assert seen == []


def test_the_manager_admin_and_api_docs_keep_the_policy(watch, live_server, clinic):
    url = live_server.url
    seen = signed_in(watch, url, "boss", "/manage/")
    seen += watch.visit(f"{url}/admin/", ready="#content")
    seen += watch.visit(f"{url}/admin/scheduling/appointment/", ready="#result_list")
    seen += watch.visit(f"{url}/admin/sites/location/{clinic['location'].pk}/change/", "form")
    seen += watch.visit(f"{url}/api/docs/", ready="#swagger-ui .opblock")
    watch.page.locator("#swagger-ui .opblock-summary").first.click()
    watch.page.locator("#swagger-ui .opblock-body").first.wait_for()
    seen += watch.violations()
    assert seen == []


def test_every_admin_list_and_add_form_keeps_the_policy(watch, live_server, clinic):
    """Django's admin pages the manager can open: each model's list, and its add form."""
    from clinic.users.models import User

    manager = User.objects.get(username="boss")
    url = live_server.url
    seen = signed_in(watch, url, "boss", "/manage/")
    visited = 0
    for model in admin.site._registry:
        meta = model._meta
        if not manager.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
            continue
        prefix = f"admin:{meta.app_label}_{meta.model_name}"
        seen += watch.visit(url + reverse(f"{prefix}_changelist"), ready="#content")
        visited += 1
        if manager.has_perm(f"{meta.app_label}.add_{meta.model_name}"):
            seen += watch.visit(url + reverse(f"{prefix}_add"), ready="#content form")
    assert visited >= 10, "the manager sees the clinic's admin"
    assert seen == []
