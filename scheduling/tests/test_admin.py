"""The admin writes through the scheduling services: a cancellation there tells the patient
and offers the freed slot; a move into a taken time shows the conflict, never a 500; the
rows themselves cannot be edited."""

import pytest
from django.contrib.messages import get_messages

from notifications.models import Message, MessageKind
from patients.tests.factories import PatientFactory
from scheduling.models import Appointment, AppointmentStatus, OfferStatus, WaitlistStatus
from scheduling.tests.test_booking import book, next_monday_at
from scheduling.tests.test_waitlist import join

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/scheduling/appointment/"


@pytest.fixture
def admin_client(client, manager_user):
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.sign_in(manager_user)
    return client


def run_action(client, action: str, rows: list[Appointment], **fields: str):
    selected = [str(row.pk) for row in rows]
    data = {"action": action, "_selected_action": selected}
    form_page = client.post(CHANGELIST, data)
    assert form_page.status_code == 200, "the action first asks for what the service needs"
    return client.post(CHANGELIST, data | {"apply": "yes", **fields})


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_an_admin_cancel_tells_the_patient_and_offers_the_freed_slot(
    admin_client, clinic, front_desk_user, manager_user
):
    taken = book(clinic, front_desk_user)
    waiting = join(clinic, PatientFactory(), front_desk_user)

    response = run_action(admin_client, "cancel_with_reason", [taken], reason="Doctor ill")

    assert response.status_code == 302
    taken.refresh_from_db()
    assert taken.status == AppointmentStatus.CANCELLED
    assert taken.cancel_reason == "Doctor ill" and taken.cancelled_by == manager_user
    assert Message.objects.filter(
        subject_id=taken.pk, kind=MessageKind.APPOINTMENT_CANCELLED
    ).exists()
    waiting.refresh_from_db()
    assert waiting.status == WaitlistStatus.OFFERED
    assert waiting.offers.get().status == OfferStatus.OPEN


def test_an_admin_cancel_without_a_reason_asks_again_and_changes_nothing(
    admin_client, clinic, front_desk_user
):
    taken = book(clinic, front_desk_user)
    response = run_action(admin_client, "cancel_with_reason", [taken], reason="")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    taken.refresh_from_db()
    assert taken.status == AppointmentStatus.BOOKED


def test_an_admin_move_into_a_taken_time_shows_the_conflict(admin_client, clinic, front_desk_user):
    book(clinic, front_desk_user, at=next_monday_at(9))
    later = book(clinic, front_desk_user, at=next_monday_at(10))
    wall_clock = next_monday_at(9, 15).strftime("%Y-%m-%d %H:%M")

    response = run_action(admin_client, "move_to_new_time", [later], start=wall_clock)

    assert response.status_code == 302
    assert any("already booked" in text for text in texts(response))
    later.refresh_from_db()
    assert later.status == AppointmentStatus.BOOKED and later.start == next_monday_at(10)


def test_an_admin_move_books_the_new_time_in_the_locations_zone(
    admin_client, clinic, front_desk_user
):
    visit = book(clinic, front_desk_user, at=next_monday_at(9))
    wall_clock = next_monday_at(11).strftime("%Y-%m-%d %H:%M")

    response = run_action(admin_client, "move_to_new_time", [visit], start=wall_clock)

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED and visit.cancel_reason == "Rescheduled"
    moved = Appointment.objects.get(patient=visit.patient, status=AppointmentStatus.BOOKED)
    assert moved.start == next_monday_at(11)


def test_appointments_are_read_only_in_the_admin(admin_client, clinic, front_desk_user):
    visit = book(clinic, front_desk_user)
    page = admin_client.get(f"{CHANGELIST}{visit.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    refused = admin_client.post(f"{CHANGELIST}{visit.pk}/change/", {"status": "cancelled"})
    assert refused.status_code == 403
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
