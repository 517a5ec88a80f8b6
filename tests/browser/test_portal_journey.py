"""The patient portal end to end in Chromium, at desktop and at phone size: register, confirm
the email, fill in the intake, book a visit, find it in My appointments, move it, cancel it,
then answer the follow-up survey from its link. A screenshot of every stage is kept in
artifacts/screenshots/ (journey-<n>-<stage>-<viewport>.png); at phone size no page may
scroll sideways."""

import re
from datetime import date, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from clinic.users.roles import Role
from notifications.models import Message, MessageKind
from notifications.tests.test_links import performed, send_now
from patients.models import IntakeStatus, IntakeSubmission, Patient
from procedures.catalog import load_reference_data
from procedures.models import ProcedureOutcome
from scheduling.models import Appointment, AppointmentStatus, WorkingHours
from scheduling.tests.factories import AppointmentTypeFactory, LocationFactory, ProviderFactory
from sites.models import Room, RoomKind
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "violet-harbor-lantern-42"
VERIFY_LINK = re.compile(r"https?://[^\s/]+(/accounts/verify/[\w-]+/)")
ZONE = "America/Denver"
DAYS_AHEAD = 3  # beyond the 24 h notice and the 24 h change cutoff, whatever the hour
NRS_QUESTION = "How much pain do you have right now?"
PGIC_QUESTION = "Since your visit, how would you describe the change in your condition?"


@pytest.fixture
def site(settings, make_user):
    """A Denver clinic open every day 08:00-17:00 with one provider and a consult room, a
    self-bookable follow-up, and a clinician to record the procedure later."""
    load_reference_data(apps)  # transactional tests empty the tables the migrations filled
    settings.NOTIFICATIONS_QUEUE = "unit-tests-discarded"  # no worker sends these for real
    location = LocationFactory(time_zone=ZONE, name="Foothills Pain Center", phone="+13035550100")
    provider = ProviderFactory(locations=[location], first_name="Ada", last_name="Quill")
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=provider,
            location=location,
            weekday=weekday,
            start_time=time(8),
            end_time=time(17),
        )
    Room.objects.create(location=location, name="Consult 1", kind=RoomKind.CONSULT)
    AppointmentTypeFactory(
        code="follow_up",
        name="Follow-up",
        patient_bookable=True,
        min_notice_hours=24,
        max_horizon_days=30,
    )
    return {
        "location": location,
        "provider": provider,
        "clinician": make_user("drlee", Role.CLINICIAN, first_name="Lee"),
    }


def fits_the_screen(page) -> None:
    """At phone size, nothing scrolls sideways."""
    if page.viewport_name == "phone":
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1] + 1, (
            f"{page.url} is {width[0]} px wide on a {width[1]} px screen"
        )


def arrive(page, heading: str) -> None:
    """Wait for the page with this main heading, then check it fits the screen."""
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    fits_the_screen(page)


def long_day(day: date) -> str:
    """A day as the booking pages write it ("l j F Y")."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def go_to_day(page, day: date) -> None:
    """Show `day` of the week of free times: every day is a column on a laptop; on a phone,
    one day at a time, chosen in the strip of days."""
    if page.viewport_name == "phone":
        page.get_by_role("navigation", name="Days").locator(f"a[href='#day-{day}']").click()
    expect(page.locator(f"#day-{day}")).to_be_visible()
    fits_the_screen(page)


def choose_time(page, day: date, index: int) -> str:
    """Check the index-th free time of `day`; its time ("9:30 AM")."""
    slot = page.locator(f"#day-{day}").get_by_role("radio").nth(index)
    label = page.locator(f"label[for='{slot.get_attribute('id')}']")
    slot.check()
    return label.locator(".time").inner_text()


def test_a_patient_goes_through_the_portal(page, live_server, site):
    url = live_server.url
    email = f"journey-{page.viewport_name}@example.org"
    main = page.get_by_role("main")

    # 1. Register.
    page.goto(f"{url}/accounts/register/")
    arrive(page, "Create your patient account")
    page.get_by_label("Legal first name").fill("Rosa")
    page.get_by_label("Legal last name").fill("Marquez")
    page.get_by_label("Date of birth").fill("1961-02-04")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Mobile or home phone (optional)").fill("(303) 555-0177")
    page.get_by_role("radio", name="Email", exact=True).check()
    page.get_by_role("group", name="May we send you text messages?").get_by_label("No").check()
    page.get_by_role("group", name="May we send you email?").get_by_label("Yes").check()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{url}/accounts/register/sent/")
    arrive(page, "Check your email")
    screenshot(page, "journey-1-registered")

    # 2. Confirm the email address: signed in on the portal.
    [verification] = [m for m in mail.outbox if email in m.to]
    page.goto(url + VERIFY_LINK.search(verification.body).group(1))
    arrive(page, "Confirm your email address")
    page.get_by_role("button", name="Confirm and create my account").click()
    page.wait_for_url(f"{url}/portal/")
    arrive(page, "Welcome, Rosa")
    patient = Patient.objects.get(user__email=email)
    screenshot(page, "journey-2-verified")

    # 3. The intake, step by step.
    page.get_by_role("link", name="Start your intake").click()
    arrive(page, "Your intake")
    page.get_by_role("link", name="Start your intake").click()
    save = page.get_by_role("button", name="Save and continue", exact=True)

    arrive(page, "About you")
    expect(page.get_by_text("Step 1 of 8")).to_be_visible()
    page.get_by_label("Insurance company").fill("Blue Cross")
    page.get_by_label("Member ID").fill("XJ-4471")
    save.click()

    arrive(page, "Your pain")
    page.get_by_label("What brings you to the clinic?").fill(
        "Low back pain down the left leg for six months"
    )
    page.get_by_role("checkbox", name="Low back").check()
    page.get_by_role("checkbox", name="Leg or foot").check()
    onset = page.get_by_role("group", name="How did the pain start?")
    onset.get_by_role("radio", name="Suddenly").focus()
    page.keyboard.press("ArrowDown")  # radio groups work from the keyboard
    expect(onset.get_by_role("radio", name="Gradually, over time")).to_be_checked()
    page.get_by_label("How long have you had this pain?").fill("6 months")
    page.get_by_role("checkbox", name="Physical therapy").check()
    save.click()

    arrive(page, "Your medicines")
    page.get_by_label("Name of the medicine").fill("Gabapentin")
    page.get_by_label("Dose").fill("300 mg")
    save.click()

    arrive(page, "Allergies")
    page.get_by_label("What are you allergic to?").fill("Iohexol")
    page.get_by_label("What happened").fill("hives")
    page.get_by_label("How bad was it?").select_option("moderate")
    page.get_by_label("Is it one of these?").select_option("iodinated_contrast")
    save.click()

    arrive(page, "Health conditions and implanted devices")
    page.get_by_role("checkbox", name="Diabetes").check()
    save.click()

    arrive(page, "How you are doing")
    nrs = page.get_by_role("group", name="How bad is your pain right now?")
    nrs.get_by_role("radio", name="7", exact=True).check()
    expect(page.get_by_label("Where is the pain you rated?")).to_have_value("low_back")
    save.click()

    arrive(page, "Safety questions")
    answers = page.get_by_role("radio", name="No", exact=True)
    assert answers.count() >= 10
    which = page.get_by_label("If yes: which one?")
    expect(which).to_be_visible()
    for answer in answers.all():
        answer.check()
    expect(which).to_be_hidden()  # "Do you take a blood thinner?" No: no need to say which
    save.click()

    arrive(page, "Check and send")
    expect(page.get_by_text("Step 8 of 8")).to_be_visible()
    for shown in ("Blue Cross", "Gabapentin", "Iohexol", "Diabetes", "Gradually, over time"):
        expect(main).to_contain_text(shown)
    page.get_by_role("button", name="Send my intake").click()
    page.wait_for_url(f"{url}/portal/intake/done/")
    arrive(page, "Thank you: your intake has been sent")
    expect(main).to_contain_text("Intake submitted, waiting for review")
    page.get_by_role("link", name="Back to my portal").click()
    arrive(page, "Welcome, Rosa")
    expect(page.locator(".intake-card")).to_contain_text("Intake submitted, waiting for review")
    screenshot(page, "journey-3-intake-sent")
    assert IntakeSubmission.objects.get(patient=patient).status == IntakeStatus.SUBMITTED

    # 4. Book a follow-up three days ahead.
    day = timezone.now().astimezone(ZoneInfo(ZONE)).date() + timedelta(days=DAYS_AHEAD)
    page.goto(f"{url}/portal/book/")
    arrive(page, "Book a visit")
    page.get_by_role("radio", name="Follow-up").check()
    page.get_by_label("Where").select_option(label="Foothills Pain Center")
    page.get_by_role("button", name="See free times").click()
    arrive(page, "Choose a time")
    go_to_day(page, day)
    first_time = choose_time(page, day, 2)
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_url(re.compile(r"/portal/appointments/[0-9a-f-]+/booked/$"))
    arrive(page, "Your visit is booked")
    first_when = f"{long_day(day)}, {first_time}"
    expect(main.locator("dd").first).to_have_text(f"{first_when} (Mountain Time)")
    expect(main).to_contain_text("Dr. Ada Quill")
    screenshot(page, "journey-4-booked")
    booked = Appointment.objects.get(patient=patient)
    assert booked.start.astimezone(ZoneInfo(ZONE)).date() == day

    # 5. My appointments shows it; move it to a later time that day.
    main.get_by_role("link", name="My appointments").click()
    arrive(page, "My appointments")
    upcoming = page.get_by_role("region", name="Upcoming")
    expect(upcoming.get_by_role("heading", level=3)).to_have_text([first_when])
    upcoming.get_by_role("link", name=re.compile(r"^Reschedule")).click()
    arrive(page, "Move your visit")
    expect(main).to_contain_text(f"Your visit now: {day:%A} {day.day} {day:%B}, {first_time}")
    go_to_day(page, day)
    new_time = choose_time(page, day, 6)
    assert new_time != first_time
    page.get_by_role("button", name="Move my visit to this time").click()
    arrive(page, "Your visit is booked")
    new_when = f"{long_day(day)}, {new_time}"
    expect(main.locator("dd").first).to_have_text(f"{new_when} (Mountain Time)")
    main.get_by_role("link", name="My appointments").click()
    arrive(page, "My appointments")
    expect(upcoming.get_by_role("heading", level=3)).to_have_text([new_when])
    expect(upcoming).not_to_contain_text(first_when)
    screenshot(page, "journey-5-rescheduled")

    # 6. Cancel it.
    upcoming.locator("summary", has_text="Cancel").click()
    upcoming.get_by_label("Reason (optional)").fill("Feeling better")
    upcoming.get_by_role("button", name="Yes, cancel this visit").click()
    expect(page.get_by_role("status")).to_have_text("Your visit is cancelled.")  # after the POST
    arrive(page, "My appointments")
    expect(upcoming).to_contain_text("You have no upcoming visits.")
    cancelled = page.get_by_role("region", name="Cancelled")
    expect(cancelled).to_contain_text(f"{new_when} · Foothills Pain Center · cancelled")
    screenshot(page, "journey-6-cancelled")
    assert list(Appointment.objects.filter(patient=patient, status=AppointmentStatus.BOOKED)) == []

    # 7. The follow-up survey after a procedure, answered from its link without signing in.
    record = performed(site, patient, site["clinician"], "tfesi_ls", pre_nrs=8)
    message = Message.objects.get(subject_id=record.pk, kind=MessageKind.OUTCOME_SURVEY)
    [token] = send_now(message)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{url}/accounts/login/")
    page.goto(f"{url}/m/{token}/")
    arrive(page, "Two questions about your pain")
    assert page.get_by_role("navigation", name="Main").count() == 0, "not signed in"
    nrs = page.get_by_role("group", name=NRS_QUESTION)
    pgic = page.get_by_role("group", name=PGIC_QUESTION)
    nrs.get_by_role("radio", name="0", exact=True).focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(nrs.get_by_role("radio", name="2", exact=True)).to_be_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    expect(pgic.get_by_role("radio", name="Much improved", exact=True)).to_be_checked()
    screenshot(page, "journey-7-survey")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    arrive(page, "Thank you")
    expect(page.get_by_role("status")).to_have_text("Your answers were sent to your clinician.")
    screenshot(page, "journey-7-survey-sent")
    outcome = ProcedureOutcome.objects.get(record=record)
    assert (outcome.source, outcome.nrs, outcome.pgic) == ("survey", 2, 2)
    assert outcome.percent_relief == Decimal("75.0")
