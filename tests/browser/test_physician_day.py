"""Issue 20's "Done when": the demo physician's day in Chromium at 1366x768, screenshots kept
in artifacts/screenshots/physician-day-*.png. Land on the worklist with today's patients,
open a patient's history, order the ablation the pathway panel suggests after two positive
medial branch blocks, read the findings in plain words, take the consent, record the
procedure from its booked visit, sign the note and read its PDF. Prior authorization goes
request -> the payer's answer -> authorize, each the page's primary button in turn."""

import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from pypdf import PdfReader

from clinic.users.actor import Actor
from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from patients.tests.factories import PatientFactory
from procedures.catalog import load_reference_data
from procedures.models import ProcedureOrder
from scheduling.services import appointment_book
from scheduling.tests.factories import RoomFactory
from scheduling.tests.visits import authorized_order, procedure_site, visit
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in
from tests.browser.test_order_form import LEVELS, RFA, two_positive_blocks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ZONE = "America/New_York"  # the clinic's default zone, which the consent page reads in
JARGON = ("secondary calculator", "N18", ".csv", "LCD-", "unconfirmed")


def today_at(site: dict, hour: int, minute: int = 0) -> datetime:
    zone = site["location"].zone
    return datetime.combine(datetime.now(zone).date(), time(hour, minute), tzinfo=zone)


def demo_clinic(make_user) -> dict:
    """The demo physician (a provider of a site that performs the ablation), Rosa with two
    positive left L4-L5/L5-S1 blocks and a consult today, and Lena's trigger point injection
    booked for this afternoon."""
    load_reference_data(apps)  # transactional tests empty the tables the migrations filled
    physician = make_user("physician", Role.CLINICIAN, first_name="Ada", last_name="Vance")
    site = procedure_site(zone=ZONE, code="rfa_ls")
    provider = site["provider"]
    provider.user, provider.first_name, provider.last_name = physician, "Ada", "Vance"
    provider.credentials = "MD"
    provider.save()
    rosa = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
    today = datetime.now(site["location"].zone).date()
    two_positive_blocks(rosa, today)
    visit(site, rosa, today_at(site, 9))
    lena = PatientFactory(legal_first_name="Lena", legal_last_name="Marsh")
    trigger = authorized_order(lena, physician)
    provider.procedure_types.add(trigger.procedure_type)
    appointment_book(
        patient=lena,
        appointment_type=site["procedure"],
        provider=provider,
        location=site["location"],
        room=RoomFactory(location=site["location"], kind=trigger.procedure_type.room_kind),
        start=today_at(site, 14),
        by=Actor.system(),
        procedure_order=trigger,
    )
    return {"site": site, "rosa": rosa}


def shot(page, step: str) -> None:
    screenshot(page, f"physician-day-{step}")


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_the_physicians_day(page, live_server, make_user):
    url = live_server.url
    zone = ZoneInfo(ZONE)
    start = datetime.combine(datetime.now(zone).date(), time(8, 30), tzinfo=zone)
    with time_machine.travel(start, tick=True) as clock:
        clinic = demo_clinic(make_user)
        site, rosa = clinic["site"], clinic["rosa"]

        # Landing: the worklist with today's procedure patients.
        sign_in(page, url, "physician", TEST_PASSWORD)
        page.wait_for_url(f"{url}/history/worklist/")
        procedures = page.locator("section", has=page.locator("#procedures-heading"))
        assert "Lena Marsh" in procedures.inner_text()
        shot(page, "1-worklist")

        # My patients today, then Rosa's history.
        page.goto(f"{url}/history/my-patients/")
        page.get_by_role("link", name="Rosa Quintero").first.click()
        page.wait_for_url(f"{url}/patients/{rosa.pk}/history/")
        shot(page, "2-history")

        # The pathway panel's suggestion, prefilled.
        page.get_by_role("link", name="Order radiofrequency ablation").click()
        page.wait_for_url("**/procedures/orders/new/*")
        assert page.locator("#id_procedure_type option:checked").inner_text() == RFA
        assert page.locator("#id_side").input_value() == "left"
        assert page.get_by_label("ICD-10 code").input_value() == "M47.816"
        assert page.locator("#id_auth_status").input_value() == "pending"
        shot(page, "3-order-form")
        page.get_by_role("button", name="Create order").click()
        page.wait_for_url(f"{url}/procedures/orders/*/")
        order = ProcedureOrder.objects.get(procedure_type__code="rfa_ls")
        assert (order.side, order.levels) == ("left", LEVELS)

        # The findings in plain words, each with a readable source.
        safety = page.locator("section.safety")
        words = safety.inner_text()
        assert "Source: CMS Local Coverage Determination L38801" in words
        assert "Blocks scheduling" not in words  # two positive blocks: the RFA rule passes
        for jargon in JARGON:
            assert jargon not in words, jargon
        assert "What to do: Request prior authorization from the payer" in words
        assert "Until the payer approves it" in words
        shot(page, "4-findings")
        # The primary action is the next legal move: request, the payer's answer, authorize.
        primary = page.locator(".order-actions .button.primary")
        assert primary.inner_text() == "Request prior authorization"
        primary.click()
        page.get_by_text("Prior authorization requested").wait_for()
        assert primary.inner_text() == "Save the payer's answer"
        page.select_option("#auth_auth_status", "approved")
        page.fill("#auth_auth_number", "PA-20-118")
        page.fill("#auth_auth_expires", f"{start.date() + timedelta(days=60)}")
        shot(page, "4b-payers-answer")
        primary.click()
        page.get_by_text("Prior authorization saved.").wait_for()
        assert "Authorization requested" in page.locator("main").inner_text()
        assert primary.inner_text() == "Authorize"
        primary.click()
        page.get_by_text("Order authorized: it can be booked now.").wait_for()
        assert primary.inner_text() == "Book this procedure"

        # The desk books it for 10:00 today; at 09:40 the physician takes the consent.
        order.refresh_from_db()
        booked = visit(site, rosa, today_at(site, 10), order=order)
        clock.move_to(today_at(site, 9, 40))
        sign_in(page, url, "physician", TEST_PASSWORD)  # the idle session has ended
        page.goto(f"{url}/procedures/orders/{order.pk}/")
        page.get_by_role("link", name="Informed consent").click()
        for risk in order.procedure_type.consent_risks[:4]:
            page.get_by_label(risk, exact=True).check()
        page.get_by_label("Alternatives discussed (including no procedure)").check()
        page.get_by_role("button", name="Record the consent").click()
        page.get_by_text("Consent recorded.").wait_for()

        # After the procedure: recorded from the worklist's visit, the form prefilled.
        clock.move_to(today_at(site, 10, 50))
        sign_in(page, url, "physician", TEST_PASSWORD)
        page.goto(f"{url}/history/worklist/")
        row = page.locator("tr", has_text="Rosa Quintero")
        row.get_by_role("link", name="Record the procedure").click()
        page.wait_for_url(f"**/procedures/orders/{order.pk}/record/?visit={booked.pk}")
        day = today_at(site, 10).date()
        assert page.get_by_label("Performed at").input_value() == f"{day}T10:00"
        assert page.get_by_label("Performed by").input_value() == str(booked.provider_id)
        assert page.locator("#id_side").input_value() == "left"
        page.select_option("#id_guidance", "fluoroscopy")
        page.get_by_label("Pain before (NRS 0-10)").fill("7")
        page.get_by_label("Pain after (NRS 0-10)").fill("2")
        page.get_by_label("Fluoroscopy time (seconds)").fill("52")
        page.get_by_label("Fluoroscopy dose, reference air kerma (mGy)").fill("9.4")
        shot(page, "5-record-form")
        page.get_by_role("button", name="Record the procedure").click()
        page.get_by_text("Procedure recorded; the order is performed.").wait_for()

        # The note: prefilled, consent on record, signed and locked.
        page.get_by_role("link", name="Write the procedure note").click()
        page.get_by_role("heading", name="Review each section, then sign").wait_for()
        assert "Consent on record" in page.locator("main").inner_text()
        page.get_by_role("button", name="Sign and lock the note").click()
        page.get_by_text("Note signed and locked.").wait_for()
        assert "Electronically signed by Dr. Ada Vance, MD" in page.locator("main").inner_text()
        shot(page, "6-note-signed")

        # The PDF, opened and read.
        pdf = page.request.get(page.url.rstrip("/") + "/pdf/")
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
        text = " ".join(
            " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.body())).pages
        )
        assert RFA in text and "Left; L4-L5, L5-S1." in text
        assert "Electronically signed by Dr. Ada Vance, MD" in text
