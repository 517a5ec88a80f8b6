"""What is planned when: each business change writes its messages in its own transaction."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from clinic.users.actor import Actor
from notifications.consent import NO_CHANNEL
from notifications.models import (
    Message,
    MessageKind,
    MessageState,
    NotificationPolicy,
    SubjectType,
)
from notifications.services import Plan, messages_schedule_new
from patients.models import DrugClass, Medication
from patients.tests.factories import PatientFactory
from scheduling.models import AppointmentStatus, WaitlistOffer
from scheduling.services import (
    appointment_book,
    appointment_move,
    appointment_reschedule,
    offer_accept,
    waitlist_join,
)

from .conftest import CHICAGO, days_ahead_at, email_patient, procedure_booking, sms_patient

pytestmark = pytest.mark.django_db


def book(site, by, patient, start, **extra):
    return appointment_book(
        patient=patient,
        appointment_type=site["type"],
        provider=site["provider"],
        location=site["location"],
        room=site["room"],
        start=start,
        by=Actor.desk(by) if by is not None else Actor.system(),
        **extra,
    )


def planned(subject) -> dict[tuple[str, str], Message]:
    return {(m.kind, m.variant): m for m in Message.objects.filter(subject_id=subject.pk)}


def test_a_booking_plans_a_confirmation_and_reminders_72_and_24_hours_before(site, front_desk_user):
    start = days_ahead_at(10, 9, 30)
    appointment = book(site, front_desk_user, sms_patient(), start)
    messages = planned(appointment)
    assert set(messages) == {
        (MessageKind.APPOINTMENT_CONFIRMATION, ""),
        (MessageKind.APPOINTMENT_REMINDER, "72h"),
        (MessageKind.APPOINTMENT_REMINDER, "24h"),
    }
    assert messages[(MessageKind.APPOINTMENT_REMINDER, "24h")].due_at == start - timedelta(days=1)
    assert messages[(MessageKind.APPOINTMENT_REMINDER, "72h")].due_at == start - timedelta(days=3)
    confirmation = messages[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
    assert confirmation.state == MessageState.PENDING
    assert confirmation.channel == "sms"
    assert confirmation.due_at <= timezone.now()
    assert all(m.expires_at == start for m in messages.values())


def test_reminder_hours_are_set_per_appointment_type(site, front_desk_user):
    site["type"].reminder_hours = [48]
    site["type"].save()
    appointment = book(site, front_desk_user, sms_patient(), days_ahead_at(10, 9))
    assert {v for k, v in planned(appointment) if k == MessageKind.APPOINTMENT_REMINDER} == {"48h"}


def test_a_booking_closer_than_a_reminder_skips_that_reminder(site, front_desk_user):
    # Between 35 and 59 hours ahead, whatever the hour now: inside 72 hours, beyond 24.
    appointment = book(site, front_desk_user, sms_patient(), days_ahead_at(2, 11))
    kinds = set(planned(appointment))
    assert (MessageKind.APPOINTMENT_REMINDER, "24h") in kinds
    assert (MessageKind.APPOINTMENT_REMINDER, "72h") not in kinds


def test_cancelling_cancels_the_reminders_and_tells_the_patient(site, front_desk_user):
    appointment = book(site, front_desk_user, sms_patient(), days_ahead_at(10, 9))
    appointment_move(
        appointment=appointment,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Ill",
    )
    messages = planned(appointment)
    reminders = [m for (k, _), m in messages.items() if k == MessageKind.APPOINTMENT_REMINDER]
    assert reminders and all(m.state == MessageState.CANCELLED for m in reminders)
    assert messages[(MessageKind.APPOINTMENT_CANCELLED, "")].state == MessageState.PENDING


def test_rescheduling_moves_the_reminders_to_the_new_time(site, front_desk_user):
    appointment = book(site, front_desk_user, sms_patient(), days_ahead_at(10, 9))
    new_start = days_ahead_at(12, 14)
    moved = appointment_reschedule(
        appointment=appointment, start=new_start, by=Actor.desk(front_desk_user)
    )
    old = planned(appointment)
    assert all(m.state == MessageState.CANCELLED for m in old.values())
    assert (MessageKind.APPOINTMENT_CANCELLED, "") not in old, "a move is not a cancellation"
    new = planned(moved)
    assert new[(MessageKind.APPOINTMENT_REMINDER, "24h")].due_at == new_start - timedelta(days=1)
    assert (MessageKind.APPOINTMENT_CONFIRMATION, "moved") in new


def test_a_failed_booking_plans_nothing(site, front_desk_user):
    start = days_ahead_at(10, 9)
    book(site, front_desk_user, sms_patient(), start)
    before = Message.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - the 409, tested in scheduling
        book(site, front_desk_user, sms_patient(), start)
    assert Message.objects.count() == before


def test_a_no_show_cancels_what_is_left(site, front_desk_user, clock):
    appointment = book(site, front_desk_user, sms_patient(), days_ahead_at(10, 9))
    clock.move_to(appointment.start + timedelta(minutes=15))  # a no-show is after the start
    appointment_move(
        appointment=appointment, to=AppointmentStatus.NO_SHOW, by=Actor.desk(front_desk_user)
    )
    assert all(m.state == MessageState.CANCELLED for m in planned(appointment).values())


class TestChannel:
    def test_the_preferred_channel_is_used(self, site, front_desk_user):
        appointment = book(site, front_desk_user, email_patient(), days_ahead_at(10, 9))
        assert {m.channel for m in planned(appointment).values()} == {"email"}

    def test_without_consent_to_the_preferred_channel_the_other_one_is_used(
        self, site, front_desk_user
    ):
        patient = PatientFactory(preferred_channel="sms", consent_sms=False, consent_email=True)
        appointment = book(site, front_desk_user, patient, days_ahead_at(10, 9))
        assert {m.channel for m in planned(appointment).values()} == {"email"}

    def test_a_phone_preference_uses_a_consented_written_channel(self, site, front_desk_user):
        patient = PatientFactory(preferred_channel="phone", consent_sms=True, consent_email=False)
        appointment = book(site, front_desk_user, patient, days_ahead_at(10, 9))
        assert {m.channel for m in planned(appointment).values()} == {"sms"}

    def test_without_any_consent_nothing_is_sent_and_staff_can_see_why(self, site, front_desk_user):
        patient = PatientFactory(consent_sms=False, consent_email=False)
        appointment = book(site, front_desk_user, patient, days_ahead_at(10, 9))
        messages = planned(appointment).values()
        assert messages and all(m.state == MessageState.CANCELLED for m in messages)
        assert {m.cancel_reason for m in messages} == {NO_CHANNEL}

    def test_consent_without_an_address_is_no_channel(self, site, front_desk_user):
        patient = PatientFactory(consent_sms=True, phone="", consent_email=False)
        appointment = book(site, front_desk_user, patient, days_ahead_at(10, 9))
        assert {m.state for m in planned(appointment).values()} == {MessageState.CANCELLED}


class TestQuietHours:
    def test_a_text_due_in_the_night_waits_for_eight_in_the_morning_local(
        self, site, front_desk_user
    ):
        start = days_ahead_at(10, 7, 30)  # 24 hours before is 07:30, inside the quiet hours
        appointment = book(site, front_desk_user, sms_patient(), start)
        reminder = planned(appointment)[(MessageKind.APPOINTMENT_REMINDER, "24h")]
        assert reminder.due_at == start - timedelta(days=1)
        assert reminder.send_after.astimezone(CHICAGO).time().isoformat() == "08:00:00"
        assert reminder.send_after.astimezone(CHICAGO).date() == (start - timedelta(days=1)).date()

    def test_an_email_due_in_the_night_goes_when_due(self, site, front_desk_user):
        start = days_ahead_at(10, 7, 30)
        appointment = book(site, front_desk_user, email_patient(), start)
        reminder = planned(appointment)[(MessageKind.APPOINTMENT_REMINDER, "24h")]
        assert reminder.send_after == reminder.due_at


class TestWaitlist:
    def test_an_offer_is_a_message_and_accepting_it_cancels_what_is_left(
        self, site, front_desk_user
    ):
        start = days_ahead_at(5, 11)
        taken = book(site, front_desk_user, sms_patient(), start)
        waiting = sms_patient()
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
        message = Message.objects.get(subject_id=offer.pk)
        assert (message.kind, message.patient_id) == (MessageKind.WAITLIST_OFFER, waiting.pk)
        assert message.expires_at == offer.expires_at
        offer_accept(offer=offer, by=Actor.desk(front_desk_user))
        message.refresh_from_db()
        # Sent already or cancelled: either way nothing more goes out about the offer.
        assert message.state in (MessageState.CANCELLED, MessageState.SENT)


def test_planning_the_same_message_twice_makes_one_row(site, front_desk_user):
    from scheduling.messages import appointment_booked

    appointment = book(site, front_desk_user, sms_patient(), days_ahead_at(10, 9))
    count = Message.objects.count()
    appointment_booked(appointment)
    assert Message.objects.count() == count


def test_a_medication_hold_message_is_planned_for_the_day_the_hold_starts(
    site, front_desk_user, clinician_user
):
    patient = sms_patient()
    Medication.objects.create(
        patient=patient, name="Apixaban", drug_class=DrugClass.DOAC, dose="5 mg"
    )
    start = days_ahead_at(10, 9)
    appointment = procedure_booking(site, patient, clinician_user, start=start)
    messages = planned(appointment)
    hold = next(m for (k, _), m in messages.items() if k == MessageKind.MEDICATION_HOLD)
    hold_finding = next(f for f in appointment.findings if f["code"] == hold.variant)
    hold_day = datetime.fromisoformat(hold_finding["details"]["hold_start"]).date()
    assert hold.due_at.astimezone(CHICAGO).date() == hold_day
    assert hold.due_at.astimezone(CHICAGO).hour == 10
    prep = messages[(MessageKind.PREPARATION, "")]
    assert prep.due_at.astimezone(CHICAGO).date() == (start - timedelta(days=3)).date()
    assert prep.due_at.astimezone(UTC) > timezone.now()


def test_a_new_subjects_messages_are_one_insert_and_the_one_due_is_handed_over(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    patient, subject, now = email_patient(), uuid.uuid4(), timezone.now()
    policy = NotificationPolicy.current()
    plans = [
        Plan(MessageKind.APPOINTMENT_CONFIRMATION, now, expires_at=now + timedelta(days=3)),
        Plan(MessageKind.APPOINTMENT_REMINDER, now + timedelta(days=1), "24h"),
        Plan(MessageKind.APPOINTMENT_REMINDER, now + timedelta(days=2), "24h"),  # moves it
        Plan(MessageKind.APPOINTMENT_REMINDER, now, "1h", expires_at=now),  # of no use
    ]
    with django_capture_on_commit_callbacks() as published, django_assert_num_queries(1):
        messages_schedule_new(
            patient=patient,
            subject_type=SubjectType.APPOINTMENT,
            subject_id=subject,
            plans=plans,
            policy=policy,
        )
    rows = {(m.kind, m.variant): m for m in Message.objects.filter(subject_id=subject)}
    assert set(rows) == {
        (MessageKind.APPOINTMENT_CONFIRMATION, ""),
        (MessageKind.APPOINTMENT_REMINDER, "24h"),
    }
    assert rows[(MessageKind.APPOINTMENT_REMINDER, "24h")].due_at == now + timedelta(days=2)
    assert rows[(MessageKind.APPOINTMENT_REMINDER, "24h")].enqueued_at is None
    assert now <= rows[(MessageKind.APPOINTMENT_CONFIRMATION, "")].enqueued_at <= timezone.now()
    assert len(published) == 1  # the confirmation, to a worker once the transaction commits
