"""Status moves respect the clock, every move is stamped and logged, a no-show or a
cancellation can be undone by staff the same day while the slot is free, and a procedure
order is scheduled exactly while a visit holds it. Services first, then the API."""

from datetime import time, timedelta

import pytest

from clinic.core.errors import Conflict, Forbidden
from clinic.users.actor import Actor, ActorChannel
from notifications.models import Message, MessageKind, MessageState
from patients.tests.factories import PatientFactory
from procedures.models import OrderStatus
from scheduling.models import AppointmentStatus, AppointmentStatusChange
from scheduling.selectors import undo_possible, visit_waits
from scheduling.services import (
    appointment_move,
    appointment_reschedule,
    appointment_undo,
)
from scheduling.tests.visits import authorized_order, procedure_site, visit

pytestmark = pytest.mark.django_db

DENVER = "America/Denver"
S = AppointmentStatus


@pytest.fixture
def site(db):
    return procedure_site(DENVER)


@pytest.fixture
def morning(clock):
    """The clock at 08:00 in Denver tomorrow (a whole local day ahead), standing still."""
    clock.move_to(clock.day_at(1, time(8), DENVER), tick=False)
    return clock


def at(clock, hour: int, minute: int = 0, days: int = 0):
    return clock.day_at(days, time(hour, minute), DENVER)


def move(appointment, to, user, reason=""):
    return appointment_move(appointment=appointment, to=to, by=Actor.desk(user), reason=reason)


def refused(call, *args, **kwargs) -> Conflict:
    with pytest.raises(Conflict) as caught:
        call(*args, **kwargs)
    return caught.value


# --- The clock ------------------------------------------------------------------------------


def test_check_in_of_next_weeks_visit_is_refused_and_changes_nothing(
    site, morning, front_desk_user
):
    appointment = visit(site, PatientFactory(), at(morning, 10, days=7))
    error = refused(move, appointment, S.CHECKED_IN, front_desk_user)
    assert error.code == "not_today"
    assert "only on its day" in error.detail and "MT" in error.detail
    appointment.refresh_from_db()
    assert appointment.status == S.BOOKED and appointment.checked_in_at is None
    assert not AppointmentStatusChange.objects.exists()


def test_no_show_only_on_the_day_and_after_the_start(site, morning, front_desk_user):
    appointment = visit(site, PatientFactory(), at(morning, 10))
    assert refused(move, appointment, S.NO_SHOW, front_desk_user).code == "not_started"
    morning.move_to(at(morning, 10, 5), tick=False)
    assert move(appointment, S.NO_SHOW, front_desk_user).status == S.NO_SHOW
    later = visit(site, PatientFactory(), at(morning, 11, days=2))
    morning.move_to(at(morning, 12, days=3), tick=False)  # the day after it: too late
    assert refused(move, later, S.NO_SHOW, front_desk_user).code == "not_today"


def test_in_room_needs_check_in_and_complete_needs_in_room(site, morning, front_desk_user):
    appointment = visit(site, PatientFactory(), at(morning, 10))
    for to in (S.IN_ROOM, S.COMPLETED):
        error = refused(move, appointment, to, front_desk_user)
        assert error.code == "illegal_transition"
    move(appointment, S.CHECKED_IN, front_desk_user)
    assert refused(move, appointment, S.COMPLETED, front_desk_user).code == "illegal_transition"


def test_each_move_is_stamped_and_logged_and_the_waits_follow(site, morning, front_desk_user):
    appointment = visit(site, PatientFactory(), at(morning, 10))
    morning.move_to(at(morning, 9, 50), tick=False)
    move(appointment, S.CHECKED_IN, front_desk_user)
    morning.move_to(at(morning, 10, 12), tick=False)
    assert visit_waits(appointment.__class__.objects.get(pk=appointment.pk)).waiting == 22
    move(appointment, S.IN_ROOM, front_desk_user)
    morning.move_to(at(morning, 10, 40), tick=False)
    done = move(appointment, S.COMPLETED, front_desk_user)
    assert done.checked_in_at == at(morning, 9, 50)
    assert done.in_room_at == at(morning, 10, 12)
    assert done.completed_at == at(morning, 10, 40)
    waits = visit_waits(done)
    assert (waits.waiting, waits.in_room, waits.total) == (22, 28, 50)
    log = list(appointment.status_changes.order_by("at"))
    assert [(c.from_status, c.to_status) for c in log] == [
        (S.BOOKED, S.CHECKED_IN),
        (S.CHECKED_IN, S.IN_ROOM),
        (S.IN_ROOM, S.COMPLETED),
    ]
    assert {c.by for c in log} == {front_desk_user}
    assert {c.channel for c in log} == {ActorChannel.DESK}


def test_a_cancellation_is_logged_with_its_reason_and_a_reschedule_too(
    site, morning, front_desk_user
):
    appointment = visit(site, PatientFactory(), at(morning, 10, days=3))
    moved = appointment_reschedule(
        appointment=appointment, start=at(morning, 14, days=3), by=Actor.desk(front_desk_user)
    )
    change = appointment.status_changes.get()
    assert (change.from_status, change.to_status, change.reason) == (
        S.BOOKED,
        S.CANCELLED,
        "Rescheduled",
    )
    move(moved, S.CANCELLED, front_desk_user, reason="Patient called")
    assert moved.status_changes.get().reason == "Patient called"


# --- Undo -------------------------------------------------------------------------------------


def test_a_no_show_is_undone_the_same_day(site, morning, front_desk_user):
    appointment = visit(site, PatientFactory(), at(morning, 10))
    morning.move_to(at(morning, 10, 20), tick=False)
    move(appointment, S.NO_SHOW, front_desk_user)
    morning.move_to(at(morning, 10, 35), tick=False)  # the patient turns up late
    appointment.refresh_from_db()
    assert undo_possible(appointment)
    restored = appointment_undo(appointment=appointment, by=Actor.desk(front_desk_user))
    assert restored.status == S.BOOKED
    undo = appointment.status_changes.order_by("at").last()
    assert (undo.from_status, undo.to_status, undo.undo) == (S.NO_SHOW, S.BOOKED, True)
    assert undo.by == front_desk_user
    # Undone once: there is nothing left to undo, and the visit moves on as usual.
    error = refused(appointment_undo, appointment=appointment, by=Actor.desk(front_desk_user))
    assert error.code == "illegal_transition"
    assert move(appointment, S.CHECKED_IN, front_desk_user).status == S.CHECKED_IN


def test_a_cancellation_of_a_checked_in_visit_comes_back_checked_in(site, morning, front_desk_user):
    appointment = visit(site, PatientFactory(), at(morning, 10))
    move(appointment, S.CHECKED_IN, front_desk_user)
    move(appointment, S.CANCELLED, front_desk_user, reason="Left the waiting room")
    restored = appointment_undo(appointment=appointment, by=Actor.desk(front_desk_user))
    assert restored.status == S.CHECKED_IN
    assert restored.cancel_reason == "" and restored.cancelled_by is None


def test_the_next_day_an_undo_is_refused(site, morning, front_desk_user):
    appointment = visit(site, PatientFactory(), at(morning, 10, days=2))
    move(appointment, S.CANCELLED, front_desk_user, reason="Sick")
    appointment.refresh_from_db()
    assert undo_possible(appointment)
    morning.move_to(at(morning, 0, 5, days=1), tick=False)  # just past midnight in Denver
    assert not undo_possible(appointment)
    error = refused(appointment_undo, appointment=appointment, by=Actor.desk(front_desk_user))
    assert error.code == "undo_expired"
    appointment.refresh_from_db()
    assert appointment.status == S.CANCELLED


def test_a_retaken_slot_cannot_be_undone(site, morning, front_desk_user):
    appointment = visit(site, PatientFactory(), at(morning, 15))
    move(appointment, S.CANCELLED, front_desk_user, reason="Sick")
    visit(site, PatientFactory(), at(morning, 15))  # someone else books the freed time
    error = refused(appointment_undo, appointment=appointment, by=Actor.desk(front_desk_user))
    assert error.code == "slot_taken"
    appointment.refresh_from_db()
    assert appointment.status == S.CANCELLED
    assert not appointment.status_changes.filter(undo=True).exists()


def test_a_reschedules_cancellation_and_a_patient_cannot_undo(
    site, morning, front_desk_user, patient_user, own_patient
):
    appointment = visit(site, PatientFactory(), at(morning, 10, days=3))
    appointment_reschedule(
        appointment=appointment, start=at(morning, 14, days=3), by=Actor.desk(front_desk_user)
    )
    error = refused(appointment_undo, appointment=appointment, by=Actor.desk(front_desk_user))
    assert error.code == "not_undoable"
    mine = visit(site, own_patient, at(morning, 10, days=5))
    move(mine, S.CANCELLED, front_desk_user, reason="Sick")
    with pytest.raises(Forbidden):
        appointment_undo(appointment=mine, by=Actor.portal(patient_user))


def _messages(appointment) -> dict[str, str]:
    rows = Message.objects.filter(subject_id=appointment.pk)
    return {f"{m.kind}:{m.variant}": m.state for m in rows}


def test_an_undo_restores_the_reminders_still_ahead_not_the_past_ones(
    site, morning, front_desk_user
):
    # At 08:00, a visit three days ahead at 10:00: the 72-hour reminder is due at 10:00 today.
    appointment = visit(site, PatientFactory(consent_email=True), at(morning, 10, days=3))
    reminders = {f"{MessageKind.APPOINTMENT_REMINDER}:{h}h" for h in (72, 24)}
    assert {k: _messages(appointment)[k] for k in reminders} == dict.fromkeys(
        reminders, MessageState.PENDING
    )
    move(appointment, S.CANCELLED, front_desk_user, reason="Sick")
    assert {_messages(appointment)[k] for k in reminders} == {MessageState.CANCELLED}
    morning.move_to(at(morning, 11), tick=False)  # the 72-hour reminder's time has passed
    appointment_undo(appointment=appointment, by=Actor.desk(front_desk_user))
    states = _messages(appointment)
    assert states[f"{MessageKind.APPOINTMENT_REMINDER}:24h"] == MessageState.PENDING
    assert states[f"{MessageKind.APPOINTMENT_REMINDER}:72h"] == MessageState.CANCELLED
    assert states[f"{MessageKind.APPOINTMENT_CANCELLED}:"] == MessageState.CANCELLED
    reminder = Message.objects.get(subject_id=appointment.pk, variant="24h")
    assert reminder.due_at == at(morning, 10, days=2) and reminder.cancel_reason == ""


def test_an_undone_cancellation_withdraws_the_waitlist_offer_for_its_slot(
    site, morning, front_desk_user
):
    from scheduling.models import OfferStatus, WaitlistEntry, WaitlistStatus

    entry = WaitlistEntry.objects.create(
        patient=PatientFactory(),
        appointment_type=site["follow_up"],
        earliest=morning.today(DENVER),
        latest=morning.today(DENVER) + timedelta(days=10),
    )
    appointment = visit(site, PatientFactory(), at(morning, 10, days=3))
    move(appointment, S.CANCELLED, front_desk_user, reason="Sick")
    offer = entry.offers.get()
    appointment_undo(appointment=appointment, by=Actor.desk(front_desk_user))
    offer.refresh_from_db()
    entry.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED and entry.status == WaitlistStatus.WAITING


# --- Orders follow their visits -----------------------------------------------------------


def _order_status(order) -> str:
    order.refresh_from_db()
    return order.status


@pytest.mark.parametrize("release", [S.CANCELLED, S.NO_SHOW])
def test_a_released_procedure_visit_returns_its_order_and_the_undo_takes_it_again(
    site, morning, front_desk_user, clinician_user, release
):
    patient = PatientFactory()
    order = authorized_order(patient, clinician_user)
    appointment = visit(site, patient, at(morning, 9, 30), order=order)
    assert _order_status(order) == OrderStatus.SCHEDULED
    morning.move_to(at(morning, 9, 45), tick=False)
    move(appointment, release, front_desk_user, reason="Sick")
    assert _order_status(order) == OrderStatus.AUTHORIZED
    appointment_undo(appointment=appointment, by=Actor.desk(front_desk_user))
    assert _order_status(order) == OrderStatus.SCHEDULED
    assert order.planned_date == morning.today(DENVER)


def test_a_rescheduled_procedure_keeps_its_order_scheduled_on_the_new_day(
    site, morning, front_desk_user, clinician_user
):
    patient = PatientFactory()
    order = authorized_order(patient, clinician_user)
    appointment = visit(site, patient, at(morning, 9, 30, days=2), order=order)
    moved = appointment_reschedule(
        appointment=appointment, start=at(morning, 9, 30, days=4), by=Actor.desk(front_desk_user)
    )
    assert moved.procedure_order == order
    assert _order_status(order) == OrderStatus.SCHEDULED
    assert order.planned_date == morning.today(DENVER) + timedelta(days=4)


def test_an_undo_refuses_when_the_order_was_booked_again(
    site, morning, front_desk_user, clinician_user
):
    patient = PatientFactory()
    order = authorized_order(patient, clinician_user)
    appointment = visit(site, patient, at(morning, 9, 30, days=2), order=order)
    move(appointment, S.CANCELLED, front_desk_user, reason="Sick")
    visit(site, patient, at(morning, 13, days=3), order=order)  # booked on another day
    error = refused(appointment_undo, appointment=appointment, by=Actor.desk(front_desk_user))
    assert error.code == "order_moved"
    appointment.refresh_from_db()
    assert appointment.status == S.CANCELLED


def test_patient_and_message_link_cancellations_release_the_order_too(
    site, morning, clinician_user, patient_user, own_patient
):
    order = authorized_order(own_patient, clinician_user)
    appointment = visit(site, own_patient, at(morning, 9, 30, days=5), order=order)
    appointment_move(
        appointment=appointment,
        to=S.CANCELLED,
        by=Actor.portal(patient_user),
        reason="Cancelled by the patient online.",
    )
    assert _order_status(order) == OrderStatus.AUTHORIZED
    again = visit(site, own_patient, at(morning, 9, 30, days=6), order=order)
    appointment_move(
        appointment=again, to=S.CANCELLED, by=Actor.message_link(), reason="From the link."
    )
    assert _order_status(order) == OrderStatus.AUTHORIZED


# --- API ----------------------------------------------------------------------------------------


def url(appointment, action: str) -> str:
    return f"/api/v1/appointments/{appointment.pk}/{action}/"


def test_api_every_too_early_or_illegal_move_is_a_409(site, morning, api_as, front_desk_user):
    client = api_as(front_desk_user)
    next_week = visit(site, PatientFactory(), at(morning, 10, days=7))
    today = visit(site, PatientFactory(), at(morning, 11))
    cases = [
        (next_week, "check-in", "not_today"),
        (next_week, "no-show", "not_today"),
        (today, "no-show", "not_started"),
        (today, "in-room", "illegal_transition"),
        (today, "complete", "illegal_transition"),
    ]
    for appointment, action, code in cases:
        response = client.post(url(appointment, action))
        assert response.status_code == 409, (action, response.json())
        assert response.json()["code"] == code, action
    assert client.post(url(today, "check-in")).status_code == 200
    response = client.post(url(today, "complete"))
    assert (response.status_code, response.json()["code"]) == (409, "illegal_transition")
    assert AppointmentStatusChange.objects.count() == 1


def test_api_undo(site, morning, api_as, front_desk_user, patient_user, own_patient):
    appointment = visit(site, own_patient, at(morning, 10))
    morning.move_to(at(morning, 10, 20), tick=False)
    client = api_as(front_desk_user)
    assert client.post(url(appointment, "no-show")).status_code == 200
    assert api_as(patient_user).post(url(appointment, "undo")).status_code == 403
    client = api_as(front_desk_user)
    response = client.post(url(appointment, "undo"))
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == S.BOOKED
    response = client.post(url(appointment, "undo"))
    assert (response.status_code, response.json()["code"]) == (409, "illegal_transition")
    client.post(url(appointment, "cancel"), {"reason": "Sick"})
    morning.move_to(at(morning, 9, days=1), tick=False)
    response = client.post(url(appointment, "undo"))
    assert (response.status_code, response.json()["code"]) == (409, "undo_expired")


# --- The desk's page ------------------------------------------------------------------------


def test_the_desk_undoes_a_no_show_from_its_card(site, morning, client, front_desk_user):
    appointment = visit(site, PatientFactory(), at(morning, 10))
    morning.move_to(at(morning, 10, 20), tick=False)
    move(appointment, S.NO_SHOW, front_desk_user)
    client.sign_in(front_desk_user)
    response = client.post(f"/desk/appointments/{appointment.pk}/undo/")
    assert response.status_code == 200 and response.json()["status"] == S.BOOKED
    appointment.refresh_from_db()
    assert appointment.status == S.BOOKED
    undo = appointment.status_changes.get(undo=True)
    assert undo.channel == ActorChannel.DESK and undo.by == front_desk_user
    again = client.post(f"/desk/appointments/{appointment.pk}/undo/")
    assert again.status_code == 409
    assert "has nothing to undo" in again.json()["detail"]
