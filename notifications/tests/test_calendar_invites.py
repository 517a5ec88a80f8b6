"""Emails about a visit carry it for the patient's calendar: the confirmation invites
(METHOD:REQUEST), a move's confirmation updates the same event (same UID, higher
SEQUENCE) and a cancellation takes it out (METHOD:CANCEL), so the calendar never keeps two
events for one visit. The files are parsed back with the icalendar package."""

from datetime import time, timedelta

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from clinic.users.actor import Actor
from notifications.delivery import deliver
from notifications.models import MessageKind, NotificationPolicy
from scheduling.models import AppointmentStatus
from scheduling.services import appointment_move, appointment_reschedule

from .conftest import days_ahead_at, email_patient, sms_patient
from .test_plans import book, planned

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_quiet_hours(db):
    NotificationPolicy.objects.update_or_create(
        id=1, defaults={"quiet_hours_start": time(0, 0), "quiet_hours_end": time(0, 0)}
    )


def send(subject, kind: str, variant: str = "") -> icalendar.Calendar:
    """Deliver the message and parse the calendar file its email carries."""
    message = planned(subject)[(kind, variant)]
    before = len(mail.outbox)
    assert deliver(str(message.pk)) == "sent"
    email = mail.outbox[before]
    invites = [part for part in email.attachments if part.get_content_type() == "text/calendar"]
    assert len(invites) == 1, "one calendar file per email"
    part = invites[0]
    assert part.get_filename() == "invite.ics"
    calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert part.get_param("method") == str(calendar["METHOD"])
    return calendar


def only_event(calendar: icalendar.Calendar) -> icalendar.Event:
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return events[0]


def test_a_visit_keeps_one_calendar_event_through_a_move_and_a_cancellation(site, front_desk_user):
    patient = email_patient(email="rosa@example.org")
    desk = Actor.desk(front_desk_user)
    first = book(site, front_desk_user, patient, days_ahead_at(10, 9, 30))

    invited = send(first, MessageKind.APPOINTMENT_CONFIRMATION)
    assert str(invited["METHOD"]) == "REQUEST"
    event = only_event(invited)
    uid = str(event["UID"])
    assert event["SEQUENCE"] == 0 and str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == first.start
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert str(event["ATTENDEE"]) == "mailto:rosa@example.org"
    assert "DTSTAMP" in event

    moved = appointment_reschedule(appointment=first, start=days_ahead_at(11, 14), by=desk)
    updated = only_event(send(moved, MessageKind.APPOINTMENT_CONFIRMATION, "moved"))
    assert str(updated["UID"]) == uid, "a move updates the event the calendar already has"
    assert updated["SEQUENCE"] == 1
    assert updated.decoded("DTSTART") == moved.start
    first.refresh_from_db()
    assert first.status == AppointmentStatus.CANCELLED
    assert not planned(first).get((MessageKind.APPOINTMENT_CANCELLED, "")), (
        "the move's confirmation replaces the event: no separate cancellation"
    )

    appointment_move(appointment=moved, to=AppointmentStatus.CANCELLED, by=desk, reason="Ill")
    cancelled = send(moved, MessageKind.APPOINTMENT_CANCELLED)
    assert str(cancelled["METHOD"]) == "CANCEL"
    gone = only_event(cancelled)
    assert str(gone["UID"]) == uid
    assert gone["SEQUENCE"] == 2 and str(gone["STATUS"]) == "CANCELLED"


def test_the_invitation_names_no_procedure_and_text_messages_carry_none(site, front_desk_user):
    by_email = book(site, front_desk_user, email_patient(), days_ahead_at(10, 9, 30))
    event = only_event(send(by_email, MessageKind.APPOINTMENT_CONFIRMATION))
    assert site["type"].name not in event.to_ical().decode()
    by_text = book(site, front_desk_user, sms_patient(), days_ahead_at(10, 11))
    message = planned(by_text)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
    before = len(mail.outbox)
    assert deliver(str(message.pk)) == "sent"
    assert len(mail.outbox) == before, "a text message has no attachment to carry"


def test_reminders_carry_no_invitation(site, front_desk_user):
    appointment = book(site, front_desk_user, email_patient(), days_ahead_at(10, 9, 30))
    reminder = planned(appointment)[(MessageKind.APPOINTMENT_REMINDER, "72h")]
    reminder.due_at = reminder.send_after = timezone.now() - timedelta(minutes=1)
    reminder.save(update_fields=["due_at", "send_after"])
    assert deliver(str(reminder.pk)) == "sent"
    (email,) = mail.outbox
    assert email.attachments == []
