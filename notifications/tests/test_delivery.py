"""The send task's body, run in this process (eager): once, only while still relevant,
never in quiet hours, with retries and a final failure staff can see."""

from datetime import time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from clinic.users.actor import Actor
from notifications.channels import DeliveryError, LocmemSmsBackend
from notifications.delivery import deliver
from notifications.dispatcher import dispatch_due, recover_stale
from notifications.models import Message, MessageKind, MessageState, NotificationPolicy
from notifications.services import message_retry
from scheduling.models import AppointmentStatus
from scheduling.services import appointment_move

from .conftest import CHICAGO, days_ahead_at, email_patient, sms_patient
from .test_plans import book, planned

pytestmark = pytest.mark.django_db

SMS = LocmemSmsBackend.outbox


def noon_today():
    now = timezone.now().astimezone(CHICAGO)
    return now.replace(hour=12, minute=0, second=0, microsecond=0)


def send_due(now):
    """What beat and a worker do: hand over what is due at `now`, then send each."""
    report = dispatch_due(now=now)
    return [deliver(message_id) for message_id in report.handed_over]


@pytest.fixture
def booked(site, front_desk_user):
    return book(site, front_desk_user, sms_patient(), days_ahead_at(10, 9, 30))


@pytest.fixture(autouse=True)
def quiet_hours_off_unless_tested(request, db):
    """Tests that send 'now' must not depend on the hour the suite runs at; the quiet-hours
    tests set the hours themselves."""
    if request.node.get_closest_marker("quiet_hours") is None:
        NotificationPolicy.objects.update_or_create(
            id=1, defaults={"quiet_hours_start": time(0, 0), "quiet_hours_end": time(0, 0)}
        )


def test_a_due_message_is_sent_once(booked):
    confirmation = planned(booked)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
    assert send_due(noon_today() + timedelta(days=1)) == ["sent"]
    assert [m["key"] for m in SMS] == [str(confirmation.pk)]
    assert deliver(str(confirmation.pk)) == "already-sent"
    assert send_due(noon_today() + timedelta(days=1)) == []
    assert len(SMS) == 1
    confirmation.refresh_from_db()
    assert confirmation.state == MessageState.SENT
    assert confirmation.attempts == 1
    assert confirmation.provider_message_id == f"locmem-{confirmation.pk}"


def test_reminders_go_when_due_and_not_before(booked):
    reminder = planned(booked)[(MessageKind.APPOINTMENT_REMINDER, "24h")]
    send_due(reminder.due_at - timedelta(minutes=1))
    reminder.refresh_from_db()
    assert reminder.state == MessageState.PENDING
    send_due(reminder.due_at)
    reminder.refresh_from_db()
    assert reminder.state == MessageState.SENT


def test_a_reminder_for_a_cancelled_appointment_is_never_sent(booked, front_desk_user):
    reminder = planned(booked)[(MessageKind.APPOINTMENT_REMINDER, "24h")]
    # Cancelled behind the outbox's back (a direct update): the send-time check still holds.
    type(booked).objects.filter(pk=booked.pk).update(status=AppointmentStatus.CANCELLED)
    dispatch_due(now=reminder.due_at)
    assert deliver(str(reminder.pk)) == "cancelled"
    reminder.refresh_from_db()
    assert reminder.state == MessageState.CANCELLED
    assert "cancelled" in reminder.cancel_reason
    assert not any(m["key"] == str(reminder.pk) for m in SMS)


def test_a_cancelled_appointment_sends_the_cancellation_and_no_reminder(booked, front_desk_user):
    appointment_move(
        appointment=booked,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Ill",
    )
    # The confirmation had not gone out yet: only the cancellation does.
    assert send_due(booked.start - timedelta(hours=1)) == ["sent"]
    kinds = {m.kind for m in Message.objects.filter(state=MessageState.SENT)}
    assert kinds == {MessageKind.APPOINTMENT_CANCELLED}


@pytest.mark.quiet_hours
class TestQuietHours:
    def test_a_text_handed_over_in_the_quiet_hours_waits_for_the_morning(self, booked):
        reminder = planned(booked)[(MessageKind.APPOINTMENT_REMINDER, "24h")]
        night = reminder.due_at.astimezone(CHICAGO).replace(hour=22, minute=15) - timedelta(days=1)
        Message.objects.filter(pk=reminder.pk).update(send_after=night, enqueued_at=night)
        assert deliver(str(reminder.pk)) == "quiet-hours"
        reminder.refresh_from_db()
        assert reminder.state == MessageState.PENDING
        assert reminder.send_after.astimezone(CHICAGO).hour == 8
        assert reminder.send_after.astimezone(CHICAGO).date() == night.date() + timedelta(days=1)
        assert SMS == []

    def test_an_email_is_not_held_back(self, site, front_desk_user):
        appointment = book(site, front_desk_user, email_patient(), days_ahead_at(10, 9))
        reminder = planned(appointment)[(MessageKind.APPOINTMENT_REMINDER, "24h")]
        night = reminder.due_at.astimezone(CHICAGO).replace(hour=23)
        Message.objects.filter(pk=reminder.pk).update(send_after=night, enqueued_at=night)
        assert deliver(str(reminder.pk)) == "sent"
        assert len(mail.outbox) == 1


class FailingSms(LocmemSmsBackend):
    permanent = False

    def send(self, *, key, to, body):
        raise DeliveryError("provider said no", permanent=self.permanent)


class PermanentlyFailingSms(FailingSms):
    permanent = True


class TestFailures:
    def test_a_failure_retries_with_backoff_then_fails_for_good(self, booked, settings):
        settings.SMS_BACKEND = "notifications.tests.test_delivery.FailingSms"
        NotificationPolicy.objects.update_or_create(id=1, defaults={"max_attempts": 3})
        confirmation = planned(booked)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
        waits = []
        for expected in ("retry-later", "retry-later", "failed"):
            before = timezone.now()
            Message.objects.filter(pk=confirmation.pk).update(send_after=before, enqueued_at=before)
            assert deliver(str(confirmation.pk)) == expected
            confirmation.refresh_from_db()
            waits.append(confirmation.send_after - before)
        assert confirmation.state == MessageState.FAILED
        assert confirmation.attempts == 3
        assert confirmation.last_error == "provider said no"
        assert waits[0] < waits[1], "each retry waits longer"
        assert timedelta(seconds=55) < waits[0] < timedelta(seconds=65)

    def test_a_permanent_error_fails_at_once(self, booked, settings):
        settings.SMS_BACKEND = "notifications.tests.test_delivery.PermanentlyFailingSms"
        confirmation = planned(booked)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
        Message.objects.filter(pk=confirmation.pk).update(enqueued_at=timezone.now())
        assert deliver(str(confirmation.pk)) == "failed"

    def test_staff_retry_a_failed_message_and_it_is_sent(self, booked, settings, front_desk_user):
        confirmation = planned(booked)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
        Message.objects.filter(pk=confirmation.pk).update(
            state=MessageState.FAILED, attempts=5, last_error="provider said no"
        )
        message_retry(message=confirmation, by=Actor.desk(front_desk_user))
        confirmation.refresh_from_db()
        assert (confirmation.state, confirmation.attempts) == (MessageState.PENDING, 0)
        assert deliver(str(confirmation.pk)) == "sent"

    def test_only_a_failed_message_can_be_retried(self, booked, front_desk_user):
        from clinic.core.errors import Conflict

        confirmation = planned(booked)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
        with pytest.raises(Conflict):
            message_retry(message=confirmation, by=Actor.desk(front_desk_user))


class TestRecovery:
    """A worker killed while sending leaves the row `sending`; the dispatcher sorts it out."""

    def claim_and_die(self, message, settings, *, provider_took_it: bool):
        Message.objects.filter(pk=message.pk).update(
            state=MessageState.SENDING,
            claimed_at=timezone.now()
            - timedelta(seconds=settings.NOTIFY_SENDING_LEASE_SECONDS + 1),
            attempts=1,
            body="Hello",
        )
        if provider_took_it:
            SMS.append({"key": str(message.pk), "to": "+1", "body": "Hello"})

    def test_a_message_the_provider_took_is_marked_sent_without_sending_again(
        self, booked, settings
    ):
        confirmation = planned(booked)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
        self.claim_and_die(confirmation, settings, provider_took_it=True)
        report = recover_stale()
        confirmation.refresh_from_db()
        assert report.recovered_sent == 1
        assert confirmation.state == MessageState.SENT
        assert len(SMS) == 1

    def test_a_message_the_provider_never_got_is_sent_again_once(self, booked, settings):
        confirmation = planned(booked)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
        self.claim_and_die(confirmation, settings, provider_took_it=False)
        results = send_due(timezone.now())
        confirmation.refresh_from_db()
        assert "sent" in results
        assert confirmation.state == MessageState.SENT
        assert confirmation.attempts == 2
        assert [m["key"] for m in SMS] == [str(confirmation.pk)]

    def test_a_message_still_within_its_lease_is_left_alone(self, booked, settings):
        confirmation = planned(booked)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
        Message.objects.filter(pk=confirmation.pk).update(
            state=MessageState.SENDING, claimed_at=timezone.now(), attempts=1
        )
        assert recover_stale().recovered_pending == 0
        confirmation.refresh_from_db()
        assert confirmation.state == MessageState.SENDING


def test_consent_withdrawn_after_planning_stops_the_message(booked):
    confirmation = planned(booked)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
    booked.patient.consent_sms = False
    booked.patient.consent_email = False
    booked.patient.save()
    Message.objects.filter(pk=confirmation.pk).update(enqueued_at=timezone.now())
    assert deliver(str(confirmation.pk)) == "cancelled"
    assert SMS == [] and mail.outbox == []


def test_a_hand_over_that_waited_too_long_in_the_queue_is_looked_at_again(booked, settings):
    confirmation = planned(booked)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
    old = timezone.now() - timedelta(seconds=settings.NOTIFY_DISPATCH_MAX_LAG_SECONDS + 5)
    Message.objects.filter(pk=confirmation.pk).update(enqueued_at=old)
    assert deliver(str(confirmation.pk)) == "requeued-stale"
    confirmation.refresh_from_db()
    assert confirmation.enqueued_at is None and confirmation.state == MessageState.PENDING


def test_a_missing_message_id_is_a_no_op(db):
    import uuid

    assert deliver(str(uuid.uuid4())) == "busy-or-missing"
