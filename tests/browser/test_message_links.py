"""Messages in Chromium: a patient answers a survey from the link in their email without
signing in, from the keyboard; the front desk retries a text the provider refused.
Screenshots at desktop and phone size are kept in artifacts/screenshots/."""

from datetime import time

import pytest
from django.apps import apps

from clinic.users.actor import Actor
from clinic.users.roles import Role
from conftest import TEST_PASSWORD
from notifications.delivery import deliver
from notifications.models import Message, MessageKind, MessageState, NotificationPolicy
from notifications.tests.conftest import days_ahead_at, email_patient, sms_patient
from notifications.tests.test_links import performed, send_now
from procedures.catalog import load_reference_data
from procedures.models import ProcedureOutcome
from scheduling.models import WorkingHours
from scheduling.services import appointment_book
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from sites.models import RoomKind
from tests.browser.conftest import screenshot
from tests.browser.test_login import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NRS_QUESTION = "How much pain do you have right now?"
PGIC_QUESTION = "Since your visit, how would you describe the change in your condition?"


@pytest.fixture
def site(settings):
    load_reference_data(apps)  # transactional tests empty the tables the migrations filled
    settings.NOTIFICATIONS_QUEUE = "unit-tests-discarded"  # no worker sends these for real
    location = LocationFactory(time_zone="America/Chicago", phone="+13125550100")
    provider = ProviderFactory(locations=[location])
    for weekday in range(7):  # the desk books only offered times
        WorkingHours.objects.create(
            provider=provider,
            location=location,
            weekday=weekday,
            start_time=time(8),
            end_time=time(17),
        )
    return {
        "location": location,
        "provider": provider,
        "room": RoomFactory(location=location, kind=RoomKind.CONSULT),
        "type": AppointmentTypeFactory(min_notice_hours=0),
    }


@pytest.fixture
def survey(site, make_user):
    """The survey link from the email sent after a transforaminal epidural."""
    clinician = make_user("drlee", Role.CLINICIAN)
    patient = email_patient(legal_first_name="Zebulon", legal_last_name="Quartermaine")
    record = performed(site, patient, clinician, "tfesi_ls", pre_nrs=8)
    message = Message.objects.get(subject_id=record.pk, kind=MessageKind.OUTCOME_SURVEY)
    [token] = send_now(message)
    return {"token": token, "record": record}


def test_a_patient_answers_a_survey_from_the_keyboard_without_signing_in(page, live_server, survey):
    page.goto(f"{live_server.url}/m/{survey['token']}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Two questions about your pain"
    main = page.locator("main").inner_text()
    assert "Zebulon" not in main and "Quartermaine" not in main and "epidural" not in main
    assert page.get_by_role("navigation", name="Main").count() == 0, "not signed in"
    screenshot(page, "survey")

    with page.expect_navigation() as sent:
        page.get_by_role("button", name="Send my answers").click()
    assert sent.value.status == 400
    assert "Please answer the questions marked below." in page.get_by_role("alert").inner_text()
    nrs = page.get_by_role("group", name=NRS_QUESTION)
    pgic = page.get_by_role("group", name=PGIC_QUESTION)
    assert nrs.locator(".field-errors").inner_text() == "Choose a number from 0 to 10."
    assert pgic.locator(".field-errors").inner_text() == "Choose the answer that fits best."
    assert "nrs-errors" in nrs.get_attribute("aria-describedby")
    assert pgic.get_attribute("aria-describedby") == "pgic-errors"
    assert nrs.get_by_role("radio", name="0", exact=True).get_attribute("aria-invalid") == "true"
    screenshot(page, "survey-errors")
    assert not ProcedureOutcome.objects.exists()

    # Every choice is a labelled radio button, and the form works from the keyboard.
    assert nrs.get_by_role("radio").count() == 11
    assert pgic.get_by_role("radio").count() == 7
    nrs.get_by_role("radio", name="0", exact=True).focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert nrs.get_by_role("radio", name="3", exact=True).is_checked()
    page.keyboard.press("Tab")  # on to the second question
    page.keyboard.press("ArrowDown")
    assert pgic.get_by_role("radio", name="Much improved", exact=True).is_checked()
    page.keyboard.press("Tab")
    with page.expect_navigation() as sent:
        page.keyboard.press("Enter")
    assert sent.value.status == 200

    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    assert page.get_by_role("status").inner_text() == "Your answers were sent to your clinician."
    screenshot(page, "survey-thanks")
    outcome = ProcedureOutcome.objects.get(record=survey["record"])
    assert (outcome.nrs, outcome.pgic, outcome.source) == (3, 2, "survey")

    page.goto(f"{live_server.url}/m/{survey['token']}/")
    assert "This link was already used." in page.locator("main").inner_text()


@pytest.fixture
def refused(site, settings, make_user):
    """A confirmation text the provider refused for good (a landline, say)."""
    settings.SMS_BACKEND = "notifications.tests.test_views.RefusingSmsBackend"
    NotificationPolicy.objects.update_or_create(
        id=1, defaults={"quiet_hours_start": time(0, 0), "quiet_hours_end": time(0, 0)}
    )
    desk = make_user("desk", Role.FRONT_DESK, first_name="Jordan")
    appointment = appointment_book(
        patient=sms_patient(legal_first_name="Rosa", legal_last_name="Quintero"),
        appointment_type=site["type"],
        provider=site["provider"],
        location=site["location"],
        room=site["room"],
        start=days_ahead_at(10, 9, 30),
        by=Actor.desk(desk),
    )
    message = Message.objects.get(
        subject_id=appointment.pk, kind=MessageKind.APPOINTMENT_CONFIRMATION
    )
    assert deliver(str(message.pk)) == "failed"
    return message


def test_the_front_desk_retries_a_failed_message(page, live_server, refused):
    sign_in(page, live_server.url, "desk", TEST_PASSWORD)
    page.wait_for_url(f"{live_server.url}/desk/")
    page.goto(f"{live_server.url}/messages/failed/")
    assert page.get_by_role("heading", level=1).inner_text() == "Failed messages"
    row = page.locator("tr", has_text="Rosa Quintero")
    assert "SMS provider answered 400" in row.inner_text()
    screenshot(page, "failed-messages")

    retry = page.get_by_role("button", name="Retry appointment confirmation for Rosa Quintero")
    with page.expect_navigation():
        retry.click()
    assert page.url == f"{live_server.url}/messages/failed/"
    assert "The message will be sent again now." in page.get_by_role("status").inner_text()
    assert page.locator("tr", has_text="Rosa Quintero").count() == 0
    assert "No failed messages." in page.locator("main").inner_text()
    screenshot(page, "failed-messages-retried")
    refused.refresh_from_db()
    assert (refused.state, refused.attempts) == (MessageState.PENDING, 0)
