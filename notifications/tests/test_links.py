"""The links in messages, opened through the real pages with no login: each shows only what
it is for, acts once on POST, and says plainly when it is unknown, used, expired, wrong or
too late. Links come from messages planned by the real flows (a booking, a recorded
procedure, a freed slot) and are read from the body the send task stored."""

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.users.actor import Actor
from notifications.delivery import deliver
from notifications.kinds import new_link, token_digest
from notifications.models import LinkPurpose, LinkToken, Message, MessageKind, MessageState
from procedures.models import Guidance, ProcedureOutcome, ProcedureType
from procedures.services import outcome_record, record_create
from scheduling.models import Appointment, AppointmentStatus, OfferStatus, WaitlistOffer
from scheduling.services import appointment_move, waitlist_join

from .conftest import days_ahead_at, email_patient
from .test_plans import book, planned

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s/]+/m/([A-Za-z0-9_-]+)/")
NRS_ERROR = "Choose a number from 0 to 10."
PGIC_ERROR = "Choose the answer that fits best."
PROCEDURE_WORDS = ["epidural", "steroid", "injection", "transforaminal", "medial branch"]
DIAGNOSIS = "Lumbar radiculopathy"


# --- Helpers ------------------------------------------------------------------------------


def send_now(message: Message) -> list[str]:
    """Make the message due now and run the send task; the tokens of the links it carries,
    read from the stored body. Email, so quiet hours never hold it back."""
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(send_after=now, enqueued_at=now)
    assert deliver(str(message.pk)) == "sent"
    message.refresh_from_db()
    return LINK.findall(message.body)


def url(token: str) -> str:
    return f"/m/{token}/"


def link_row(token: str) -> LinkToken:
    return LinkToken.objects.get(digest=token_digest(token))


def patient_words(patient) -> list[str]:
    return [patient.legal_first_name, patient.legal_last_name, patient.mrn, patient.email]


def assert_shows_nothing_about(html: str, patient) -> None:
    lowered = html.lower()
    leaks = [w for w in patient_words(patient) if w and w.lower() in lowered]
    leaks += [w for w in PROCEDURE_WORDS if w in lowered]
    leaks += [n for n in ProcedureType.objects.values_list("name", flat=True) if n in html]
    assert DIAGNOSIS.lower() not in lowered
    assert not leaks, f"the page shows {leaks}"


def field_errors(html: str, field: str) -> str:
    """The error list the page shows inside the field's fieldset ('' when none)."""
    match = re.search(
        rf'<fieldset[^>]*aria-describedby="[^"]*{field}-errors[^"]*"[^>]*>.*?'
        rf'<ul class="field-errors" id="{field}-errors">(.*?)</ul>.*?</fieldset>',
        html,
        re.S,
    )
    return match.group(1) if match else ""


# --- Subjects made by the real flows --------------------------------------------------------


@pytest.fixture
def patient():
    return email_patient(
        legal_first_name="Zebulon", legal_last_name="Quartermaine", preferred_name=""
    )


def performed(site, patient, clinician, code: str, *, pre_nrs: int = 8):
    return record_create(
        by=Actor.desk(clinician),
        patient=patient,
        procedure_type=ProcedureType.objects.get(code=code),
        performer=site["provider"],
        location=site["location"],
        performed_at=timezone.now() - timedelta(minutes=30),
        guidance=Guidance.FLUOROSCOPY,
        side="left",
        levels=["L4-L5"],
        pre_nrs=pre_nrs,
        post_nrs=2,
    )


@pytest.fixture
def record(site, patient, clinician_user):
    """A transforaminal epidural (therapeutic: its plan has an outcome survey at 14 days)."""
    return performed(site, patient, clinician_user, "tfesi_ls")


@pytest.fixture
def survey(record):
    """The token of the survey link, as sent in the outcome-survey email."""
    message = planned(record)[(MessageKind.OUTCOME_SURVEY, "14d")]
    [token] = send_now(message)
    assert link_row(token).purpose == LinkPurpose.SURVEY
    return token


@pytest.fixture
def diary(site, patient, clinician_user):
    """The token of the first pain-diary link after a medial branch block (diagnostic)."""
    block = performed(site, patient, clinician_user, "mbb_ls")
    [token] = send_now(planned(block)[(MessageKind.PAIN_DIARY, "1h")])
    assert link_row(token).purpose == LinkPurpose.DIARY
    return token


@pytest.fixture
def visit(site, front_desk_user, patient):
    return book(site, front_desk_user, patient, days_ahead_at(10, 9, 30))


def open_with_birth_date(client, token: str, patient) -> None:
    """A visit's link asks the date of birth first (links/tests/test_manage.py)."""
    response = client.post(url(token), {"date_of_birth": patient.date_of_birth.isoformat()})
    assert response.status_code == 302


@pytest.fixture
def reminder_links(client, visit):
    """(confirm token, cancel token) from the 24-hour reminder email, opened in `client`."""
    confirm, move, cancel = send_now(planned(visit)[(MessageKind.APPOINTMENT_REMINDER, "24h")])
    purposes = [link_row(token).purpose for token in (confirm, move, cancel)]
    assert purposes == ["confirm", "reschedule", "cancel"]
    for token in (confirm, cancel):
        open_with_birth_date(client, token, visit.patient)
    return confirm, cancel


def outcomes(record):
    return list(ProcedureOutcome.objects.filter(record=record))


# --- What a link page shows -----------------------------------------------------------------


def test_the_survey_page_shows_only_the_two_questions(client, survey, patient):
    response = client.get(url(survey))
    assert response.status_code == 200
    html = response.content.decode()
    assert "How much pain do you have right now?" in html
    assert "describe the change in your condition" in html
    assert html.count('type="radio" name="nrs"') == 11
    assert html.count('type="radio" name="pgic"') == 7
    assert_shows_nothing_about(html, patient)
    assert "Sign out" not in html and 'aria-label="Main"' not in html, "no staff chrome"
    assert "no-store" in response["Cache-Control"]


def test_every_radio_button_has_a_label(client, survey):
    html = client.get(url(survey)).content.decode()
    radios = re.findall(r"<label[^>]*>\s*<input[^>]*type=\"radio\"[^>]*>\s*([^<]+)</label>", html)
    assert len(radios) == 18
    assert all(text.strip() for text in radios)
    assert "Very much improved" in radios[11].strip()


def test_opening_a_link_does_not_use_it(client, survey, record):
    assert client.get(url(survey)).status_code == 200
    assert client.get(url(survey)).status_code == 200
    assert link_row(survey).used_at is None
    assert outcomes(record) == []


def test_a_link_page_is_in_the_audit_with_its_token_redacted(client, survey, patient):
    assert client.get(url(survey)).status_code == 200
    row = AuditEvent.objects.get(patients__contains=[patient.pk])
    assert (row.channel, row.user, row.username, row.action) == ("message_link", None, "", "read")
    assert row.route == "links:link" and row.path == "/m/…/"
    assert survey not in row.path


@pytest.mark.parametrize("purpose", ["confirm", "cancel"])
def test_the_visit_pages_show_the_time_and_place_but_not_who(
    client, reminder_links, visit, patient, purpose
):
    token = dict(zip(("confirm", "cancel"), reminder_links, strict=True))[purpose]
    html = client.get(url(token)).content.decode()
    local = visit.start.astimezone(visit.location.zone)
    assert f"{local:%-I:%M}" in html and visit.location.name in html
    assert_shows_nothing_about(html, patient)


def test_the_diary_page_asks_only_the_pain_score(client, diary, patient):
    html = client.get(url(diary)).content.decode()
    assert "How much pain do you have right now?" in html
    assert 'name="pgic"' not in html
    assert_shows_nothing_about(html, patient)


# --- Survey ---------------------------------------------------------------------------------


def test_answering_the_survey_stores_the_outcome_and_the_best_relief(
    client, survey, record, patient, clinician_user
):
    outcome_record(record=record, nrs=6, source="clinic", by=Actor.desk(clinician_user))  # 25 %
    response = client.post(url(survey), {"nrs": "2", "pgic": "2"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Thank you" in html and "Your answers were sent to your clinician." in html
    assert_shows_nothing_about(html, patient)
    answer = ProcedureOutcome.objects.get(record=record, source="survey")
    assert (answer.nrs, answer.pgic) == (2, 2)
    assert answer.percent_relief == Decimal("75.0")  # (8 - 2) / 8
    assert answer.recorded_by is None
    record.refresh_from_db()
    assert record.best_relief_percent == Decimal("75.0")
    assert link_row(survey).used_at is not None


def test_a_worse_survey_answer_keeps_the_best_relief(client, survey, record, clinician_user):
    outcome_record(record=record, nrs=2, source="clinic", by=Actor.desk(clinician_user))  # 75 %
    assert client.post(url(survey), {"nrs": "9", "pgic": "6"}).status_code == 200
    answer = ProcedureOutcome.objects.get(record=record, source="survey")
    assert answer.percent_relief == Decimal("-12.5")
    record.refresh_from_db()
    assert record.best_relief_percent == Decimal("75.0")


def test_a_survey_link_works_once(client, survey, record):
    assert client.post(url(survey), {"nrs": "3", "pgic": "2"}).status_code == 200
    again = client.post(url(survey), {"nrs": "0", "pgic": "1"})
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert client.get(url(survey)).status_code == 410
    assert [o.nrs for o in outcomes(record)] == [3]


def test_an_expired_link_is_gone_and_writes_nothing(client, survey, record):
    LinkToken.objects.filter(digest=token_digest(survey)).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    page = client.get(url(survey))
    assert page.status_code == 410
    assert "This link has expired." in page.content.decode()
    assert client.post(url(survey), {"nrs": "3", "pgic": "2"}).status_code == 410
    assert outcomes(record) == []


def test_a_link_expires_when_its_time_is_up(client, record):
    message = planned(record)[(MessageKind.OUTCOME_SURVEY, "14d")]
    link = new_link(
        purpose=LinkPurpose.SURVEY,
        message=message,
        subject_id=record.pk,
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert client.get(url(token)).status_code == 410


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_token_is_404_with_a_plain_page(client, survey, method):
    response = getattr(client, method)(url(survey[:-4] + "abcd"))
    assert response.status_code == 404
    html = response.content.decode()
    assert "This link is not valid." in html
    assert "Call us" in html


@pytest.mark.parametrize(
    ("data", "nrs_wrong", "pgic_wrong"),
    [
        ({}, True, True),
        ({"pgic": "2"}, True, False),
        ({"nrs": "11", "pgic": "2"}, True, False),
        ({"nrs": "-1", "pgic": "2"}, True, False),
        ({"nrs": "seven", "pgic": "2"}, True, False),
        ({"nrs": "5"}, False, True),
        ({"nrs": "5", "pgic": "0"}, False, True),
        ({"nrs": "5", "pgic": "8"}, False, True),
    ],
)
def test_bad_survey_answers_are_400_with_the_error_at_the_field(
    client, survey, record, data, nrs_wrong, pgic_wrong
):
    response = client.post(url(survey), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert (NRS_ERROR in field_errors(html, "nrs")) is nrs_wrong
    assert (PGIC_ERROR in field_errors(html, "pgic")) is pgic_wrong
    assert 'role="alert"' in html, "the error is announced"
    if data.get("nrs") == "5":
        assert 'name="nrs" value="5" checked' in html, "a valid answer is kept"
    assert outcomes(record) == []
    assert link_row(survey).used_at is None
    # The patient corrects it and the link still works.
    assert client.post(url(survey), {"nrs": "4", "pgic": "3"}).status_code == 200
    assert [(o.nrs, o.pgic) for o in outcomes(record)] == [(4, 3)]


def test_the_invalid_fields_are_marked_invalid(client, survey):
    html = client.post(url(survey), {"nrs": "5"}).content.decode()
    assert re.search(r'name="pgic" value="1"[^>]*aria-invalid="true"', html)
    assert not re.search(r'name="nrs"[^>]*aria-invalid', html)


# --- Diary ----------------------------------------------------------------------------------


def test_a_diary_answer_is_an_outcome_from_the_diary(client, diary, patient):
    response = client.post(url(diary), {"nrs": "2"})
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    outcome = ProcedureOutcome.objects.get(record__patient=patient)
    assert (outcome.nrs, outcome.pgic, outcome.source) == (2, None, "diary")
    assert outcome.percent_relief == Decimal("75.0")
    assert client.post(url(diary), {"nrs": "1"}).status_code == 410
    assert ProcedureOutcome.objects.filter(record__patient=patient).count() == 1


@pytest.mark.parametrize("nrs", [None, "", "12", "4.5"])
def test_a_bad_diary_answer_is_400_and_writes_nothing(client, diary, patient, nrs):
    response = client.post(url(diary), {} if nrs is None else {"nrs": nrs})
    assert response.status_code == 400
    assert NRS_ERROR in field_errors(response.content.decode(), "nrs")
    assert not ProcedureOutcome.objects.filter(record__patient=patient).exists()
    assert link_row(diary).used_at is None


# --- Confirm and cancel ---------------------------------------------------------------------


def test_confirming_marks_the_visit_confirmed(client, reminder_links, visit):
    confirm, _ = reminder_links
    response = client.post(url(confirm))
    assert response.status_code == 200
    assert "is confirmed" in response.content.decode()
    visit.refresh_from_db()
    assert visit.confirmed_at is not None
    assert visit.status == AppointmentStatus.BOOKED
    assert client.post(url(confirm)).status_code == 410


def test_confirming_a_visit_no_longer_booked_is_409(client, reminder_links, visit, front_desk_user):
    confirm, _ = reminder_links
    appointment_move(
        appointment=visit,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Ill",
    )
    response = client.post(url(confirm))
    assert response.status_code == 409
    assert "no longer booked" in response.content.decode()
    visit.refresh_from_db()
    assert visit.confirmed_at is None
    assert link_row(confirm).used_at is None


def test_cancelling_cancels_the_visit_and_its_pending_reminders(client, reminder_links, visit):
    _, cancel = reminder_links
    response = client.post(url(cancel))
    assert response.status_code == 200
    assert "is cancelled" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
    assert visit.cancel_reason == "Cancelled by the patient from a link in a message."
    messages = planned(visit)
    assert messages[(MessageKind.APPOINTMENT_REMINDER, "72h")].state == MessageState.CANCELLED
    assert messages[(MessageKind.APPOINTMENT_REMINDER, "24h")].state == MessageState.SENT
    assert messages[(MessageKind.APPOINTMENT_CANCELLED, "")].state == MessageState.PENDING
    assert client.post(url(cancel)).status_code == 410


def test_cancelling_inside_the_online_change_cutoff_is_409_and_says_to_call(
    client, site, front_desk_user, patient
):
    from scheduling.models import BookingPolicy

    BookingPolicy.objects.update_or_create(id=1, defaults={"change_cutoff_hours": 72})
    visit = book(site, front_desk_user, patient, days_ahead_at(2, 11))
    _, _, cancel = send_now(planned(visit)[(MessageKind.APPOINTMENT_REMINDER, "24h")])
    open_with_birth_date(client, cancel, patient)
    response = client.post(url(cancel))
    assert response.status_code == 409
    html = response.content.decode()
    assert "less than 72 hours before your visit: please call the clinic at" in html
    assert site["location"].phone in html
    assert 'role="alert"' in html
    assert "Cancel my visit</button>" not in html, "no button that cannot work"
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert (MessageKind.APPOINTMENT_CANCELLED, "") not in planned(visit)
    assert link_row(cancel).used_at is None


# --- Waitlist offer -------------------------------------------------------------------------


def test_accepting_a_waitlist_offer_books_the_time(client, site, front_desk_user):
    start = days_ahead_at(5, 11)
    taken = book(site, front_desk_user, email_patient(), start)
    waiting = email_patient(legal_first_name="Wilhelmina")
    waitlist_join(
        patient=waiting,
        appointment_type=site["type"],
        earliest=start.date() - timedelta(days=1),
        latest=start.date() + timedelta(days=1),
        by=Actor.desk(front_desk_user),
    )
    appointment_move(
        appointment=taken,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Ill",
    )
    offer = WaitlistOffer.objects.get(entry__patient=waiting)
    [token] = send_now(Message.objects.get(subject_id=offer.pk))
    page = client.get(url(token))
    assert page.status_code == 200
    assert "Wilhelmina" not in page.content.decode()
    response = client.post(url(token))
    assert response.status_code == 200
    assert "The time is yours" in response.content.decode()
    booked = Appointment.objects.get(patient=waiting)
    assert (booked.start, booked.status) == (start, AppointmentStatus.BOOKED)
    offer.refresh_from_db()
    assert (offer.status, offer.appointment_id) == (OfferStatus.ACCEPTED, booked.pk)
    assert client.post(url(token)).status_code == 410
    assert Appointment.objects.filter(patient=waiting).count() == 1


# --- Two answers at once --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_answers_to_one_survey_write_one_outcome(
    monkeypatch, site, clinician_user
):
    from procedures import services as procedure_services

    patient = email_patient()
    record = performed(site, patient, clinician_user, "tfesi_ls")
    message = planned(record)[(MessageKind.OUTCOME_SURVEY, "14d")]
    token = (
        new_link(
            purpose=LinkPurpose.SURVEY,
            message=message,
            subject_id=record.pk,
            expires_at=timezone.now() + timedelta(days=7),
        )
        .rstrip("/")
        .rsplit("/", 1)[-1]
    )

    # Hold the first answer inside its transaction long enough for the second to arrive.
    slow = procedure_services.outcome_record

    def outcome_record_slowly(**kwargs):
        threading.Event().wait(0.5)
        return slow(**kwargs)

    monkeypatch.setattr(procedure_services, "outcome_record", outcome_record_slowly)
    start = threading.Barrier(2)
    statuses = []

    def answer(nrs):
        try:
            start.wait(timeout=10)
            statuses.append(Client().post(url(token), {"nrs": nrs, "pgic": "2"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(n,)) for n in ("3", "4")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 410]
    assert ProcedureOutcome.objects.filter(record=record).count() == 1
    assert link_row(token).used_at is not None
