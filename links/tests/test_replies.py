"""Replies by text through the real webhook, signed as Twilio signs (computed here with the
auth token): C confirms the sender's next booked visit, R puts a call request on the front
desk's board, anything else is answered once with the clinic's number; a forged or missing
signature is 403 and a MessageSid seen before acts once."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from clinic.users.actor import Actor
from links.twilio import twilio_signature, twilio_signature_valid
from notifications.kinds import absolute
from notifications.models import InboundText, ReplyOutcome
from notifications.tests.conftest import days_ahead_at, sms_patient
from notifications.tests.test_plans import book
from scheduling.calendar_selectors import Window, calendar_window
from scheduling.models import Appointment
from scheduling.services import appointment_move

pytestmark = pytest.mark.django_db

TOKEN = "test-auth-token-0123456789abcdef"
PATH = "/m/replies/twilio/"
PHONE = "+13125550177"
CLINIC = "(312) 555-0100"


@pytest.fixture(autouse=True)
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN


def signed_post(client: Client, params: dict[str, str], *, token: str = TOKEN):
    signature = twilio_signature(absolute(PATH), params.items(), token)
    return client.post(PATH, params, HTTP_X_TWILIO_SIGNATURE=signature)


def text(client: Client, body: str, *, sid: str = "SM" + "1" * 32, sender: str = PHONE):
    params = {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+13125550199",
        "Body": body,
        "NumMedia": "0",
    }
    return signed_post(client, params)


def answer(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    found = re.search(r"<Message>(.*)</Message>", response.content.decode(), re.S)
    return found.group(1) if found else ""


@pytest.fixture
def visit(site, front_desk_user) -> Appointment:
    patient = sms_patient(phone=PHONE)
    return book(site, front_desk_user, patient, days_ahead_at(6, 10))


# --- The signature ---------------------------------------------------------------------------


def test_the_signature_matches_twilios_documented_example():
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature(url, params.items(), "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_signature_valid(
        url=url, params=params.items(), auth_token="12345", signature="RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
    assert not twilio_signature_valid(
        url=url + "&baz=3",
        params=params.items(),
        auth_token="12345",
        signature="RSOYDt4T1cUTdK1PDd93/VVr8B8=",
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_TWILIO_SIGNATURE": "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
        {"HTTP_X_TWILIO_SIGNATURE": "ünïcode"},
    ],
)
def test_a_missing_or_forged_signature_is_403_and_nothing_happens(client, visit, headers):
    params = {"MessageSid": "SM" + "2" * 32, "From": PHONE, "Body": "C"}
    response = client.post(PATH, params, **headers)
    assert response.status_code == 403
    assert not InboundText.objects.exists()
    visit.refresh_from_db()
    assert visit.confirmed_at is None


def test_a_signature_made_with_another_token_or_over_other_words_is_403(client, visit):
    params = {"MessageSid": "SM" + "3" * 32, "From": PHONE, "Body": "R"}
    assert signed_post(client, params, token="not-our-token").status_code == 403
    signature = twilio_signature(absolute(PATH), params.items(), TOKEN)
    tampered = params | {"Body": "C"}
    assert client.post(PATH, tampered, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 403
    assert not InboundText.objects.exists()


def test_without_an_auth_token_configured_every_request_is_refused(client, visit, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    params = {"MessageSid": "SM" + "4" * 32, "From": PHONE, "Body": "C"}
    assert signed_post(client, params, token="").status_code == 403


def test_a_get_is_not_allowed(client):
    assert client.get(PATH).status_code == 405


# --- C and R ---------------------------------------------------------------------------------


def test_c_confirms_the_next_booked_visit_and_says_so(client, visit, site, front_desk_user):
    later = book(site, front_desk_user, visit.patient, days_ahead_at(20, 10))
    reply = answer(text(client, " c. "))
    assert "is confirmed" in reply
    visit.refresh_from_db()
    later.refresh_from_db()
    assert visit.confirmed_at is not None and later.confirmed_at is None
    row = InboundText.objects.get()
    assert (row.outcome, row.patient_id, row.subject_id) == (
        ReplyOutcome.CONFIRMED,
        visit.patient_id,
        visit.pk,
    )
    assert PHONE not in row.sender_digest and row.reply == reply


def test_the_reply_is_kept_as_a_write_of_the_patient_with_the_message_channel(client, visit):
    from notifications.models import InboundTextEvent  # made by django-pghistory

    text(client, "C")
    event = InboundTextEvent.objects.get(pgh_label="insert")
    assert event.patient_id == visit.patient_id
    assert event.pgh_context.metadata["channel"] == "message_link"
    assert event.pgh_context.metadata["role"] == "patient"


def test_r_asks_for_a_call_shown_on_the_day_board_and_the_visit(client, visit):
    reply = answer(text(client, "R"))
    assert "will call you" in reply
    visit.refresh_from_db()
    assert visit.confirmed_at is None
    assert InboundText.objects.get().outcome == ReplyOutcome.CALL_REQUESTED
    day = visit.start.astimezone(visit.location.zone).date()
    window = calendar_window(Window(location=visit.location, start=day, end=day + timedelta(1)))
    [event] = [e for e in window["events"] if e.get("id") == str(visit.pk)]
    flags = {flag["code"]: flag for flag in event["extendedProps"]["flags"]}
    assert flags["call"]["short"] == "Call back"
    assert flags["call"]["label"].startswith("Asked by text for a call")
    assert "flag-call" in event["classNames"]


def test_the_board_reads_call_requests_in_the_same_queries(
    client, visit, django_assert_num_queries
):
    """calendar_window's documented count for a day without a released visit: the call
    requests ride on the visits' query."""
    text(client, "R")
    day = visit.start.astimezone(visit.location.zone).date()
    window = Window(location=visit.location, start=day, end=day + timedelta(1))
    calendar_window(window)  # the URL patterns, cached once per process
    with django_assert_num_queries(9):
        calendar_window(window)


def test_the_same_message_sid_twice_acts_once_and_answers_the_same(client, visit):
    first = answer(text(client, "C"))
    visit.refresh_from_db()
    confirmed_at = visit.confirmed_at
    again = answer(text(client, "C"))
    assert again == first
    visit.refresh_from_db()
    assert visit.confirmed_at == confirmed_at
    assert InboundText.objects.count() == 1


# --- Unknown senders and words ---------------------------------------------------------------


def test_an_unknown_number_is_answered_once_with_the_clinics_number(client, visit, settings):
    settings.CLINIC_PHONE = "+13125550100"
    first = answer(text(client, "C", sender="+13125550999", sid="SM" + "5" * 32))
    assert CLINIC in first
    assert answer(text(client, "C", sender="+13125550999", sid="SM" + "6" * 32)) == ""
    rows = InboundText.objects.filter(outcome=ReplyOutcome.UNKNOWN_SENDER)
    assert rows.count() == 2 and not rows.exclude(patient=None).exists()
    visit.refresh_from_db()
    assert visit.confirmed_at is None


def test_an_unknown_word_is_answered_once_and_its_text_not_kept(client, visit):
    first = answer(text(client, "my back hurts a lot", sid="SM" + "7" * 32))
    assert "Reply C to confirm" in first and CLINIC in first
    assert answer(text(client, "what?", sid="SM" + "8" * 32)) == ""
    rows = list(InboundText.objects.all())
    assert {r.outcome for r in rows} == {ReplyOutcome.NOT_UNDERSTOOD}
    assert all("back" not in (r.reply + r.sender_digest) for r in rows)
    visit.refresh_from_db()
    assert visit.confirmed_at is None


def test_a_day_later_an_unknown_word_is_answered_again(client, visit):
    answer(text(client, "hello", sid="SM" + "9" * 32))
    InboundText.objects.update(received_at=timezone.now() - timedelta(hours=25))
    assert CLINIC in answer(text(client, "hello", sid="SM" + "a" * 32))


@pytest.mark.parametrize("word", ["STOP", "help", "Cancel", "start"])
def test_twilios_own_keywords_are_left_to_twilio(client, visit, word):
    assert answer(text(client, word)) == ""
    assert not InboundText.objects.exists()


def test_a_patient_with_nothing_booked_is_told_to_call(client, visit, settings, front_desk_user):
    settings.CLINIC_PHONE = "+13125550100"
    appointment_move(
        appointment=visit, to="cancelled", by=Actor.desk(front_desk_user), reason="Ill"
    )
    assert CLINIC in answer(text(client, "C"))
    row = InboundText.objects.get()
    assert row.outcome == ReplyOutcome.NO_VISIT and row.subject_id is None


def test_a_request_without_a_message_sid_is_400(client, visit):
    response = signed_post(client, {"From": PHONE, "Body": "C"})
    assert response.status_code == 400
    assert not InboundText.objects.exists()
