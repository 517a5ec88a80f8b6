"""The staff pages of the outbox: every failed message with a retry button, and one
patient's messages (their text only for clinicians and managers), driven through the
test client. Failed messages are made the real way: the send task meets a provider that
refuses them."""

import re
import uuid
from datetime import time

import pytest
from django.utils import timezone

from notifications.channels import BaseSmsBackend, DeliveryError
from notifications.delivery import deliver
from notifications.models import Message, MessageKind, MessageState, NotificationPolicy

from .conftest import days_ahead_at, email_patient, sms_patient
from .test_plans import book, planned

pytestmark = pytest.mark.django_db

STAFF = ["front_desk_user", "clinician_user", "manager_user"]
FAILED_EMPTY = "No failed messages."
REFUSAL = "SMS provider answered 400"


class RefusingSmsBackend(BaseSmsBackend):
    """A provider that refuses every text (a landline, an unsubscribed number)."""

    def send(self, *, key: str, to: str, body: str) -> str:
        raise DeliveryError(REFUSAL, permanent=True)


@pytest.fixture
def refusing_sms(settings):
    """Texts are refused, at any hour: the quiet hours are an empty window here."""
    settings.SMS_BACKEND = f"{__name__}.RefusingSmsBackend"
    NotificationPolicy.objects.update_or_create(
        id=1, defaults={"quiet_hours_start": time(0, 0), "quiet_hours_end": time(0, 0)}
    )


def send_now(message: Message) -> str:
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(send_after=now, enqueued_at=now)
    return deliver(str(message.pk))


def slot(n: int):
    """The n-th free hour for bookings: 8 a.m. to 3 p.m., day after day from day 10."""
    return days_ahead_at(10 + n // 8, 8 + n % 8)


def failed_confirmation(site, by, patient, n: int = 0) -> Message:
    """Book a visit; its confirmation is refused by the provider and fails for good."""
    appointment = book(site, by, patient, slot(n))
    message = planned(appointment)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
    assert send_now(message) == "failed"
    message.refresh_from_db()
    return message


@pytest.fixture
def failed(site, front_desk_user, refusing_sms):
    patient = sms_patient(legal_first_name="Rosa", legal_last_name="Quintero")
    return failed_confirmation(site, front_desk_user, patient)


def rows(html: str) -> list[str]:
    return re.findall(r"<tr data-state=\"(\w+)\">", html)


# --- Who may see them -------------------------------------------------------------------


def pages(patient) -> list[str]:
    return ["/messages/failed/", f"/messages/patient/{patient.pk}/"]


@pytest.mark.parametrize("role", STAFF)
def test_staff_see_both_pages(client, request, role, other_patient):
    client.sign_in(request.getfixturevalue(role))
    for url in pages(other_patient):
        assert client.get(url).status_code == 200, url


def test_a_patient_is_refused_both_pages_and_the_retry(client, patient_user, own_patient, failed):
    client.sign_in(patient_user)
    for url in pages(own_patient):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/messages/{failed.pk}/retry/").status_code == 403
    failed.refresh_from_db()
    assert failed.state == MessageState.FAILED


def test_anonymous_users_are_sent_to_sign_in(client, other_patient, failed):
    for url in pages(other_patient):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(f"/accounts/login/?next={url}")
    assert client.post(f"/messages/{failed.pk}/retry/").status_code == 302
    failed.refresh_from_db()
    assert failed.state == MessageState.FAILED


def test_the_chart_links_to_the_patients_messages(client, front_desk_user, other_patient):
    client.sign_in(front_desk_user)
    html = client.get(f"/patients/{other_patient.pk}/").content.decode()
    assert f'href="/messages/patient/{other_patient.pk}/"' in html


# --- Failed messages --------------------------------------------------------------------


def test_the_failed_list_shows_each_failed_message_and_why(client, front_desk_user, failed):
    client.sign_in(front_desk_user)
    html = client.get("/messages/failed/").content.decode()
    assert rows(html) == ["failed"]
    assert "Rosa Quintero" in html and failed.patient.mrn in html
    assert f'href="/messages/patient/{failed.patient_id}/"' in html
    assert "Appointment confirmation" in html and REFUSAL in html
    assert FAILED_EMPTY not in html
    assert failed.body and failed.body not in html, "the list never shows message text"


def test_the_failed_list_leaves_out_what_did_not_fail(client, clinician_user, site, failed):
    pending = planned(book(site, clinician_user, email_patient(), slot(5)))
    assert {m.state for m in pending.values()} == {MessageState.PENDING}
    client.sign_in(clinician_user)
    assert rows(client.get("/messages/failed/").content.decode()) == ["failed"]


def test_with_nothing_failed_the_list_says_so(client, front_desk_user, site):
    book(site, front_desk_user, email_patient(), slot(0))
    client.sign_in(front_desk_user)
    html = client.get("/messages/failed/").content.decode()
    assert FAILED_EMPTY in html
    assert rows(html) == []


def test_retry_sends_it_again_and_returns_to_the_list(client, front_desk_user, failed):
    client.sign_in(front_desk_user)
    response = client.post(f"/messages/{failed.pk}/retry/", {"next": "/messages/failed/"})
    assert response.status_code == 302
    assert response.url == "/messages/failed/"
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == (MessageState.PENDING, 0)
    assert failed.send_after <= timezone.now()
    assert failed.last_error.startswith(f"Retried by staff user {front_desk_user.pk} after: ")
    html = client.get(response.url).content.decode()
    assert "The message will be sent again now." in html
    assert rows(html) == [] and FAILED_EMPTY in html


def test_the_retry_button_says_which_message_it_retries(client, front_desk_user, failed):
    client.sign_in(front_desk_user)
    html = client.get("/messages/failed/").content.decode()
    button = re.search(r"<button[^>]*>Retry(.*?)</button>", html, re.S)
    name = re.sub(r"<[^>]+>", "", button.group(1))
    assert "appointment confirmation for Rosa Quintero" in name
    assert f'action="/messages/{failed.pk}/retry/"' in html


def test_retrying_a_message_that_did_not_fail_changes_nothing(client, front_desk_user, site):
    appointment = book(site, front_desk_user, email_patient(), slot(0))
    message = planned(appointment)[(MessageKind.APPOINTMENT_REMINDER, "24h")]
    client.sign_in(front_desk_user)
    response = client.post(f"/messages/{message.pk}/retry/", follow=True)
    assert response.redirect_chain == [("/messages/failed/", 302)]
    html = response.content.decode()
    assert "Only a failed message can be retried; this one is pending." in html
    assert "The message will be sent again now." not in html
    after = Message.objects.get(pk=message.pk)
    assert (after.state, after.attempts, after.send_after, after.last_error) == (
        message.state,
        message.attempts,
        message.send_after,
        message.last_error,
    )
    assert after.updated_at == message.updated_at


def test_a_sent_message_cannot_be_retried(client, clinician_user, site):
    appointment = book(site, clinician_user, email_patient(), slot(0))
    message = planned(appointment)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
    assert send_now(message) == "sent"
    client.sign_in(clinician_user)
    html = client.post(f"/messages/{message.pk}/retry/", follow=True).content.decode()
    assert "Only a failed message can be retried; this one is sent." in html
    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.SENT, 1)


def test_retry_of_an_unknown_message_is_404(client, front_desk_user):
    client.sign_in(front_desk_user)
    assert client.post(f"/messages/{uuid.uuid4()}/retry/").status_code == 404


def test_retry_is_post_only(client, front_desk_user, failed):
    client.sign_in(front_desk_user)
    assert client.get(f"/messages/{failed.pk}/retry/").status_code == 405
    failed.refresh_from_db()
    assert failed.state == MessageState.FAILED


@pytest.mark.parametrize("back", ["//evil.example/", "https://evil.example/", "javascript:x"])
def test_retry_never_redirects_off_the_site(client, front_desk_user, failed, back):
    client.sign_in(front_desk_user)
    response = client.post(f"/messages/{failed.pk}/retry/", {"next": back})
    assert response.url == "/messages/failed/"


def test_retry_from_the_patients_page_returns_there(client, clinician_user, failed):
    client.sign_in(clinician_user)
    page = f"/messages/patient/{failed.patient_id}/"
    html = client.get(page).content.decode()
    assert f'name="next" value="{page}"' in html
    response = client.post(f"/messages/{failed.pk}/retry/", {"next": page})
    assert response.url == page


# --- One patient's messages -------------------------------------------------------------


@pytest.fixture
def delivered(site, front_desk_user):
    """A patient whose confirmation went out by email (so its text is kept), and another
    patient with messages of their own."""
    patient = email_patient(legal_first_name="Rosa", legal_last_name="Quintero")
    appointment = book(site, front_desk_user, patient, slot(0))
    confirmation = planned(appointment)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
    assert send_now(confirmation) == "sent"
    confirmation.refresh_from_db()
    book(site, front_desk_user, email_patient(legal_last_name="Elsewhere"), slot(1))
    return confirmation


@pytest.mark.parametrize("role", STAFF)
def test_staff_see_any_patients_messages_and_only_theirs(client, request, role, delivered):
    client.sign_in(request.getfixturevalue(role))
    html = client.get(f"/messages/patient/{delivered.patient_id}/").content.decode()
    assert "Messages to Rosa Quintero" in html
    assert len(rows(html)) == Message.objects.filter(patient=delivered.patient).count() == 3
    assert "Elsewhere" not in html
    assert f'href="/patients/{delivered.patient_id}/"' in html, "back to the chart"


@pytest.mark.parametrize("role", STAFF)
def test_an_unknown_patient_is_404(client, request, role):
    client.sign_in(request.getfixturevalue(role))
    assert client.get(f"/messages/patient/{uuid.uuid4()}/").status_code == 404


def test_a_patient_with_no_messages_sees_the_empty_state(client, clinician_user, other_patient):
    client.sign_in(clinician_user)
    html = client.get(f"/messages/patient/{other_patient.pk}/").content.decode()
    assert "No messages yet." in html and rows(html) == []


def test_the_front_desk_does_not_see_what_a_message_said(client, front_desk_user, delivered):
    client.sign_in(front_desk_user)
    html = client.get(f"/messages/patient/{delivered.patient_id}/").content.decode()
    assert "Text sent" not in html
    assert delivered.email_subject not in html
    assert delivered.body.splitlines()[-1] not in html
    assert "Sent" in html, "but does see that it went"


@pytest.mark.parametrize("role", ["clinician_user", "manager_user"])
def test_clinicians_and_managers_see_what_a_message_said(client, request, role, delivered):
    client.sign_in(request.getfixturevalue(role))
    html = client.get(f"/messages/patient/{delivered.patient_id}/").content.decode()
    assert "Text sent" in html
    assert delivered.email_subject in html
    last_line = delivered.body.strip().splitlines()[-1]
    assert last_line.replace("'", "&#x27;") in html


# --- A fixed number of queries, however many messages ------------------------------------


@pytest.mark.parametrize("count", [1, 20])
@pytest.mark.parametrize("role", ["front_desk_user", "clinician_user"])
def test_failed_list_query_count_is_fixed(
    client, request, django_assert_num_queries, site, refusing_sms, front_desk_user, count, role
):
    for n in range(count):
        failed_confirmation(site, front_desk_user, sms_patient(), n)
    client.sign_in(request.getfixturevalue(role))
    # session, user, the second factor's device, groups (role); the failed messages with
    # their patients; the counts
    with django_assert_num_queries(7):
        response = client.get("/messages/failed/")
    assert len(rows(response.content.decode())) == count


@pytest.mark.parametrize("count", [1, 20])
@pytest.mark.parametrize("role", ["front_desk_user", "clinician_user"])
def test_patients_messages_query_count_is_fixed(
    client, request, django_assert_num_queries, site, front_desk_user, count, role
):
    site["type"].reminder_hours = []  # one message (the confirmation) per booking
    site["type"].save()
    patient = email_patient()
    for n in range(count):
        message = planned(book(site, front_desk_user, patient, slot(n)))[
            (MessageKind.APPOINTMENT_CONFIRMATION, "")
        ]
        assert send_now(message) == "sent"
    client.sign_in(request.getfixturevalue(role))
    # session, user, the second factor's device, groups (role); the patient; the messages
    with django_assert_num_queries(7):
        response = client.get(f"/messages/patient/{patient.pk}/")
    assert len(rows(response.content.decode())) == count
