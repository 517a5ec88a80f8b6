"""Pump refills at the desk (issue 14, point 12): the list of refills due in the next 30 days
with a Book button, and the patient's refill reminder, cancelled when a refill visit is booked
and planned again when that visit is cancelled or missed."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.users.actor import Actor
from notifications.models import Message, MessageKind, MessageState
from patients.tests.factories import PatientFactory
from procedures import services as procedure_services
from procedures.models import Guidance, ProcedureType
from scheduling.models import AppointmentStatus
from scheduling.services import (
    appointment_book,
    appointment_move,
    appointment_reschedule,
    appointment_undo,
)
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
    works_every_day,
)
from sites.models import RoomKind

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")
FILL = {
    "pump_reservoir_ml": Decimal("20"),
    "pump_concentration": Decimal("500"),
    "pump_concentration_unit": "mcg/mL",
    "pump_daily_dose": Decimal("250"),  # 40 days; due 33 days after, alarm after 36
    "pump_dose_unit": "mcg/day",
}


@pytest.fixture
def site(db):
    location = LocationFactory(time_zone="America/Denver")
    provider = ProviderFactory(locations=[location])
    works_every_day(provider, location, time(7), time(18))
    refill_type = AppointmentTypeFactory(
        code="pump_refill", name="Pump refill", kind="pump_refill", room_kind=RoomKind.PROCEDURE
    )
    room = RoomFactory(location=location, kind=RoomKind.PROCEDURE)
    return {"location": location, "provider": provider, "type": refill_type, "room": room}


def local_day(days: int):
    return timezone.now().astimezone(DENVER).date() + timedelta(days=days)


def fill(site, clinician, patient, *, days_ago: int, **fill):
    return procedure_services.record_create(
        by=Actor.desk(clinician),
        patient=patient,
        procedure_type=ProcedureType.objects.get(code="itp_refill"),
        performed_at=datetime.combine(local_day(-days_ago), time(10), tzinfo=DENVER),
        performer=site["provider"],
        location=site["location"],
        guidance=Guidance.LANDMARK,
        pre_nrs=4,
        post_nrs=4,
        **(fill or FILL),
    )


def book_refill(site, patient, user, days_ahead: int = 5, hour: int = 9):
    return appointment_book(
        patient=patient,
        appointment_type=site["type"],
        provider=site["provider"],
        location=site["location"],
        room=site["room"],
        start=datetime.combine(local_day(days_ahead), time(hour), tzinfo=DENVER),
        by=Actor.desk(user),
    )


def reminder(record) -> Message:
    return Message.objects.get(subject_id=record.pk, kind=MessageKind.PUMP_REFILL)


def email_patient():
    return PatientFactory(preferred_channel="email", consent_email=True)


# --- The reminder follows the calculated date and the refill visit -----------------------------


def test_booking_a_refill_visit_cancels_the_reminder_and_cancelling_it_plans_it_again(
    site, clinician_user, front_desk_user
):
    patient = email_patient()
    record = fill(site, clinician_user, patient, days_ago=10)
    planned = reminder(record)
    assert planned.state == MessageState.PENDING
    due_at = planned.due_at

    visit = book_refill(site, patient, front_desk_user)
    assert reminder(record).state == MessageState.CANCELLED
    assert reminder(record).cancel_reason == "A refill visit is booked."

    appointment_move(
        appointment=visit,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Patient is travelling",
    )
    again = reminder(record)
    assert again.state == MessageState.PENDING and again.due_at == due_at


def test_undoing_the_cancellation_cancels_the_reminder_again(site, clinician_user, front_desk_user):
    patient = email_patient()
    record = fill(site, clinician_user, patient, days_ago=10)
    visit = book_refill(site, patient, front_desk_user)
    by = Actor.desk(front_desk_user)
    appointment_move(appointment=visit, to=AppointmentStatus.CANCELLED, by=by, reason="Ill")
    assert reminder(record).state == MessageState.PENDING
    appointment_undo(appointment=visit, by=by)
    assert reminder(record).state == MessageState.CANCELLED


def test_a_second_refill_visit_keeps_the_reminder_cancelled(site, clinician_user, front_desk_user):
    patient = email_patient()
    record = fill(site, clinician_user, patient, days_ago=10)
    first = book_refill(site, patient, front_desk_user, days_ahead=5)
    book_refill(site, patient, front_desk_user, days_ahead=8)
    appointment_move(
        appointment=first,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Booked twice",
    )
    assert reminder(record).state == MessageState.CANCELLED


def test_a_rescheduled_refill_visit_keeps_the_reminder_cancelled(
    site, clinician_user, front_desk_user
):
    patient = email_patient()
    record = fill(site, clinician_user, patient, days_ago=10)
    visit = book_refill(site, patient, front_desk_user, days_ahead=5)
    appointment_reschedule(
        appointment=visit,
        start=datetime.combine(local_day(6), time(11), tzinfo=DENVER),
        by=Actor.desk(front_desk_user),
    )
    assert reminder(record).state == MessageState.CANCELLED


def test_another_kind_of_visit_leaves_the_reminder_alone(site, clinician_user, front_desk_user):
    patient = email_patient()
    record = fill(site, clinician_user, patient, days_ago=10)
    follow_up = AppointmentTypeFactory(room_kind=RoomKind.PROCEDURE)
    appointment_book(
        patient=patient,
        appointment_type=follow_up,
        provider=site["provider"],
        location=site["location"],
        room=site["room"],
        start=datetime.combine(local_day(5), time(9), tzinfo=DENVER),
        by=Actor.desk(front_desk_user),
    )
    assert reminder(record).state == MessageState.PENDING


def test_a_new_fill_moves_the_reminder_to_its_own_date(site, clinician_user):
    patient = email_patient()
    old = fill(site, clinician_user, patient, days_ago=30)
    new = fill(site, clinician_user, patient, days_ago=1, **{**FILL, "pump_reservoir_ml": 40})
    assert new.next_refill_due == local_day(-1) + timedelta(days=80 - 7)
    assert reminder(new).variant == new.next_refill_due.isoformat()
    assert reminder(old).variant == old.next_refill_due.isoformat()  # stale-checked at send


# --- The staff list --------------------------------------------------------------------------


def test_the_list_shows_refills_due_within_30_days_with_dates_and_book_buttons(
    client, site, clinician_user, front_desk_user
):
    soon, later, booked, overdue = (email_patient() for _ in range(4))
    fill(site, clinician_user, soon, days_ago=10)  # due in 23 days
    fill(site, clinician_user, later, days_ago=1)  # due in 32 days: not listed
    fill(site, clinician_user, booked, days_ago=5)  # due in 28 days, visit booked
    visit = book_refill(site, booked, front_desk_user, days_ahead=20)
    fill(site, clinician_user, overdue, days_ago=40)  # due 7 days ago
    client.sign_in(front_desk_user)
    response = client.get("/desk/refills/")
    assert response.status_code == 200
    rows = {row.patient.pk: row for row in response.context["rows"]}
    assert set(rows) == {soon.pk, booked.pk, overdue.pk}
    assert [r.patient.pk for r in response.context["rows"]] == [overdue.pk, soon.pk, booked.pk]
    assert rows[soon.pk].due == local_day(23) and rows[soon.pk].alarm == local_day(26)
    assert rows[overdue.pk].overdue and rows[overdue.pk].days_overdue == 7
    assert rows[booked.pk].booked == visit
    html = response.content.decode()
    book = (
        f"/desk/book/?patient={soon.pk}&amp;appointment_type={site['type'].pk}"
        f"&amp;location={site['location'].pk}"
    )
    assert book in html
    assert f"/desk/book/?patient={booked.pk}" not in html  # already booked
    assert "America/Denver" in html and "Overdue by 7 days" in html
    assert f"{local_day(23):%a %b} {local_day(23).day}, {local_day(23):%Y}" in html
    booking = client.get(book.replace("&amp;", "&"))
    assert booking.status_code == 200
    chosen = booking.content.decode()
    assert re.search(rf'<option value="{site["type"].pk}"[^>]*selected', chosen)
    assert soon.full_name in chosen


def test_the_list_takes_the_same_queries_for_one_patient_or_many(
    client, site, clinician_user, front_desk_user
):
    client.sign_in(front_desk_user)
    fill(site, clinician_user, email_patient(), days_ago=10)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/desk/refills/").context["rows"]) == 1
    for _ in range(4):
        patient = email_patient()
        fill(site, clinician_user, patient, days_ago=12)
        book_refill(site, patient, front_desk_user, days_ahead=3, hour=7 + _)
    with CaptureQueriesContext(connection) as five:
        assert len(client.get("/desk/refills/").context["rows"]) == 5
    assert len(five) == len(one)


def test_only_staff_see_the_list_and_the_navigation_links_it(
    client, front_desk_user, clinician_user, manager_user, patient_user
):
    for user in (front_desk_user, clinician_user, manager_user):
        client.sign_in(user)
        assert 'href="/desk/refills/"' in client.get("/desk/refills/").content.decode()
    client.sign_in(patient_user)
    assert client.get("/desk/refills/").status_code in (302, 403)
