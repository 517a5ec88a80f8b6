"""A visit's links in confirmations and reminders, opened through the real pages with no
login: the date of birth first (wrong ones counted, kept in the link's history and locked
at the limit, never saying how close they were), then confirm, move or cancel through the
scheduling services with the portal's rules, and the clinic's number past the cut-off."""

import re
from datetime import date, timedelta

import pytest
from django.test import Client

from notifications.kinds import render, token_digest
from notifications.models import (
    LinkPurpose,
    LinkToken,
    Message,
    MessageKind,
    NotificationPolicy,
)
from notifications.registry import subject_kind
from notifications.tests.conftest import days_ahead_at, email_patient, sms_patient
from notifications.tests.test_plans import book, planned
from scheduling.models import Appointment, AppointmentStatus, BookingPolicy
from scheduling.selectors import RESCHEDULED

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s/]+/m/([A-Za-z0-9_-]+)/")
BORN = date(1961, 4, 18)
MISMATCH = "This date of birth does not match our records."


def links_in(message: Message) -> list[str]:
    """Render the message as the send task does; the tokens of the links it carries."""
    subject = subject_kind(message.subject_type).load(message.subject_id)
    _, body = render(message, subject, NotificationPolicy.current())
    return LINK.findall(body)


def sms_body(message: Message) -> str:
    subject = subject_kind(message.subject_type).load(message.subject_id)
    return render(message, subject, NotificationPolicy.current())[1]


def link_row(token: str) -> LinkToken:
    return LinkToken.objects.get(digest=token_digest(token))


def moved_from(visit: Appointment) -> Appointment:
    return Appointment.objects.exclude(pk=visit.pk).get(
        patient=visit.patient, status=AppointmentStatus.BOOKED
    )


def url(token: str) -> str:
    return f"/m/{token}/"


def enter_birth_date(client: Client, token: str, born: date = BORN):
    return client.post(url(token), {"date_of_birth": born.isoformat()})


@pytest.fixture(autouse=True)
def patients_may_book(site):
    """The kind of visit is one patients book (and so move) themselves, as in the portal."""
    site["type"].patient_bookable = True
    site["type"].save(update_fields=["patient_bookable"])


@pytest.fixture
def visit(site, front_desk_user):
    patient = sms_patient(date_of_birth=BORN, legal_first_name="Philippa")
    return book(site, front_desk_user, patient, days_ahead_at(10, 9, 30))


@pytest.fixture
def manage(visit) -> str:
    """The token of the one link in the 24-hour reminder text."""
    [token] = links_in(planned(visit)[(MessageKind.APPOINTMENT_REMINDER, "24h")])
    assert link_row(token).purpose == LinkPurpose.MANAGE
    return token


@pytest.fixture
def opened(client, manage) -> str:
    """The manage link, opened with the right date of birth in this browser."""
    response = enter_birth_date(client, manage)
    assert response.status_code == 302 and response["Location"] == url(manage)
    return manage


# --- What the messages carry --------------------------------------------------------------------


def test_a_text_carries_one_manage_link_and_stays_short(visit):
    for key in (
        (MessageKind.APPOINTMENT_CONFIRMATION, ""),
        (MessageKind.APPOINTMENT_REMINDER, "24h"),
    ):
        message = planned(visit)[key]
        body = sms_body(message)
        tokens = LINK.findall(body)
        assert [link_row(t).purpose for t in tokens] == [LinkPurpose.MANAGE]
        assert len(body) <= 320, f"{len(body)} characters: three text segments or more"
        assert "(312) 555-0100" in body, "the number as people read it"
    assert "Reply C to confirm, R for a call" in sms_body(
        planned(visit)[(MessageKind.APPOINTMENT_REMINDER, "24h")]
    )


def test_an_email_carries_confirm_move_and_cancel_links_each_expiring_at_the_visit(
    site,
    front_desk_user,
):
    visit = book(site, front_desk_user, email_patient(), days_ahead_at(10, 9, 30))
    for key in (
        (MessageKind.APPOINTMENT_CONFIRMATION, ""),
        (MessageKind.APPOINTMENT_REMINDER, "72h"),
    ):
        rows = [link_row(t) for t in links_in(planned(visit)[key])]
        assert [r.purpose for r in rows] == ["confirm", "reschedule", "cancel"]
        assert {r.expires_at for r in rows} == {visit.start}
        assert {r.subject_id for r in rows} == {visit.pk}


# --- The date of birth first -------------------------------------------------------------------


def test_the_page_asks_the_date_of_birth_and_shows_nothing_of_the_visit_before(
    client, manage, visit
):
    html = client.get(url(manage)).content.decode()
    assert 'name="date_of_birth"' in html
    local = visit.start.astimezone(visit.location.zone)
    assert f"{local:%-I:%M}" not in html and visit.location.name not in html
    assert "Philippa" not in html
    assert link_row(manage).failed_checks == 0


@pytest.mark.parametrize("wrong", [BORN + timedelta(days=1), date(1961, 4, 8), date(2001, 1, 1)])
def test_a_wrong_date_is_counted_and_never_says_how_close_it_was(client, manage, wrong):
    response = enter_birth_date(client, manage, wrong)
    assert response.status_code == 400
    html = response.content.decode()
    assert MISMATCH in html and "You can try 4 more times." in html
    assert "close" not in html.lower() and "year" not in html.lower()
    assert link_row(manage).failed_checks == 1


def test_an_unreadable_date_is_a_field_error_and_not_counted(client, manage):
    response = client.post(url(manage), {"date_of_birth": "18th of April"})
    assert response.status_code == 400
    assert "Enter a real date" in response.content.decode()
    assert link_row(manage).failed_checks == 0


def test_five_wrong_dates_lock_the_link_even_for_the_right_date(client, manage, visit):
    for _ in range(4):
        assert enter_birth_date(client, manage, date(1990, 1, 1)).status_code == 400
    locked = enter_birth_date(client, manage, date(1990, 1, 1))
    assert locked.status_code == 403
    assert "locked" in locked.content.decode()
    assert enter_birth_date(client, manage).status_code == 403
    assert Client().get(url(manage)).status_code == 403, "locked for every browser"
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED and visit.confirmed_at is None


def test_each_wrong_date_is_kept_with_the_channel_and_address(client, manage):
    from notifications.models import LinkTokenEvent  # made by django-pghistory

    enter_birth_date(client, manage, date(1990, 1, 1))
    enter_birth_date(client, manage, date(1990, 1, 2))
    events = list(LinkTokenEvent.objects.filter(pgh_obj=link_row(manage)).order_by("pgh_id"))
    assert [e.failed_checks for e in events] == [1, 2]
    context = events[-1].pgh_context.metadata
    assert context["channel"] == "message_link" and context["address"]
    assert context["url"] == "/m/…/", "the token stays out of the audit"


def test_the_right_date_opens_this_link_only_in_this_browser(client, opened, visit):
    assert client.get(url(opened)).status_code == 200
    other = Client().get(url(opened)).content.decode()
    assert 'name="date_of_birth"' in other
    [email_confirm, *_] = links_in(planned(visit)[(MessageKind.APPOINTMENT_REMINDER, "72h")])
    assert 'name="date_of_birth"' in client.get(url(email_confirm)).content.decode()


# --- Confirm, move, cancel from the manage page ----------------------------------------------


def test_the_opened_page_offers_the_three_actions_in_a_few_queries(
    client, opened, visit, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        html = client.get(url(opened)).content.decode()
    local = visit.start.astimezone(visit.location.zone)
    assert f"{local:%-I:%M}" in html and visit.location.name in html
    assert 'value="confirm"' in html and 'value="cancel"' in html and 'href="?move=1"' in html
    assert "Philippa" not in html


def test_confirming_from_the_manage_link_confirms_once(client, opened, visit):
    response = client.post(url(opened), {"action": "confirm"})
    assert response.status_code == 200 and "is confirmed" in response.content.decode()
    visit.refresh_from_db()
    assert visit.confirmed_at is not None and visit.status == AppointmentStatus.BOOKED
    assert link_row(opened).used_at is not None
    assert client.post(url(opened), {"action": "cancel"}).status_code == 410


def test_an_unknown_action_is_400_and_changes_nothing(client, opened, visit):
    response = client.post(url(opened), {"action": "delete"})
    assert response.status_code == 400
    assert "Choose to confirm, move or cancel" in response.content.decode()
    assert link_row(opened).used_at is None


def test_moving_lists_the_providers_next_free_times_and_moves_the_visit(client, opened, visit):
    html = client.get(url(opened) + "?move=1").content.decode()
    offered = re.findall(r'name="start" id="time-\d+" value="([^"]+)"', html)
    assert 1 <= len(offered) <= 12
    assert visit.start.isoformat() not in offered
    response = client.post(url(opened), {"action": "reschedule", "start": offered[0]})
    assert response.status_code == 200 and "has moved to" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED and visit.cancel_reason == RESCHEDULED
    moved = moved_from(visit)
    assert moved.start.isoformat() == offered[0]
    assert moved.provider_id == visit.provider_id and moved.location_id == visit.location_id
    assert (MessageKind.APPOINTMENT_CONFIRMATION, "moved") in planned(moved)
    assert link_row(opened).used_at is not None


def test_a_kind_of_visit_the_clinic_books_is_not_moved_here_but_by_a_call(
    client, opened, visit, site
):
    site["type"].patient_bookable = False
    site["type"].save(update_fields=["patient_bookable"])
    html = client.get(url(opened) + "?move=1").content.decode()
    assert 'name="start" id="time-' not in html and 'href="?move=1"' not in html
    assert "please call us to change it" in html and 'href="tel:+13125550100"' in html
    response = client.post(url(opened), {"action": "reschedule", "start": visit.start.isoformat()})
    assert response.status_code == 400
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_a_time_not_offered_is_a_field_error_and_the_times_again(client, opened, visit):
    taken = visit.start + timedelta(minutes=7)
    response = client.post(url(opened), {"action": "reschedule", "start": taken.isoformat()})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This time is no longer free" in html and 'name="start"' in html
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert link_row(opened).used_at is None


def test_the_reschedule_link_of_an_email_shows_the_times_at_once(
    client,
    site,
    front_desk_user,
):
    visit = book(site, front_desk_user, email_patient(date_of_birth=BORN), days_ahead_at(9, 10))
    _, move, _ = links_in(planned(visit)[(MessageKind.APPOINTMENT_REMINDER, "72h")])
    enter_birth_date(client, move)
    html = client.get(url(move)).content.decode()
    [first, *_] = re.findall(r'name="start" id="time-\d+" value="([^"]+)"', html)
    assert client.post(url(move), {"start": first}).status_code == 200
    assert moved_from(visit).start.isoformat() == first


def test_cancelling_from_the_manage_link_cancels_through_the_service(client, opened, visit):
    response = client.post(url(opened), {"action": "cancel"})
    assert response.status_code == 200 and "is cancelled" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
    assert visit.cancel_reason == "Cancelled by the patient from a link in a message."
    assert (MessageKind.APPOINTMENT_CANCELLED, "") in planned(visit)


# --- Past the cut-off ------------------------------------------------------------------------


@pytest.fixture
def late(site, front_desk_user, client):
    BookingPolicy.objects.update_or_create(id=1, defaults={"change_cutoff_hours": 72})
    visit = book(site, front_desk_user, sms_patient(date_of_birth=BORN), days_ahead_at(2, 11))
    [token] = links_in(planned(visit)[(MessageKind.APPOINTMENT_CONFIRMATION, "")])
    enter_birth_date(client, token)
    return visit, token


def test_past_the_cutoff_the_page_offers_a_call_and_confirming_only(client, late):
    _, token = late
    html = client.get(url(token)).content.decode()
    assert 'href="tel:+13125550100"' in html and "(312) 555-0100" in html
    assert "less than 72 hours before your visit" in html
    assert 'value="cancel"' not in html and 'href="?move=1"' not in html
    assert 'value="confirm"' in html
    moving = client.get(url(token) + "?move=1").content.decode()
    assert 'name="start" id="time-' not in moving


def test_past_the_cutoff_a_posted_cancel_or_move_is_409_and_changes_nothing(client, late):
    visit, token = late
    for data in ({"action": "cancel"}, {"action": "reschedule", "start": "x"}):
        response = client.post(url(token), data)
        assert response.status_code == 409
        assert "please call the clinic" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert link_row(token).used_at is None
