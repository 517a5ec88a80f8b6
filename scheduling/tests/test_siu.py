"""HL7 v2 SIU messages: each scheduling change plans one in its own transaction, built by
scheduling/siu.py, and the outbox sends it over MLLP to a real listener on a local port
(tests/mllp.py), which parses it with the `hl7` package and answers an ACK. Delivery runs
in this process here (notifications.delivery.deliver_batch); tests/test_hl7_siu.py runs it
on a real Celery worker."""

import re
from datetime import time, timedelta

import hl7
import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.users.actor import Actor
from notifications.channels import DeliveryError, acknowledged
from notifications.delivery import deliver_batch
from notifications.models import Channel, Message, MessageKind, MessageState, SubjectType
from notifications.services import hl7_control_id, message_retry
from patients.tests.factories import PatientFactory
from scheduling.models import AppointmentStatus
from scheduling.services import appointment_move, appointment_reschedule, appointment_undo
from scheduling.tests.visits import authorized_order, procedure_site, visit
from tests import mllp

pytestmark = pytest.mark.django_db

DENVER = "America/Denver"

listener = mllp.listener  # the interface engine's port, configured; started when asked


@pytest.fixture
def site(db):
    return procedure_site(DENVER)


def siu_rows(appointment) -> list[Message]:
    return list(
        Message.objects.filter(
            subject_type=SubjectType.VISIT, subject_id=appointment.calendar_uid
        ).order_by("variant")
    )


def deliver(*messages: Message) -> list[str]:
    """Hand the rows over as the dispatcher would at the time each one is due."""
    for message in messages:
        due = max(message_due(message), timezone.now())
        Message.objects.filter(pk=message.pk).update(enqueued_at=due)
    return deliver_batch([str(message.pk) for message in messages])


def message_due(message: Message):
    return Message.objects.values_list("send_after", flat=True).get(pk=message.pk)


def tomorrow_at(clock, hour: int):
    return clock.day_at(1, time(hour), DENVER)


def move(appointment, to, user, reason=""):
    return appointment_move(appointment=appointment, to=to, by=Actor.desk(user), reason=reason)


# --- What is built -------------------------------------------------------------------------


def test_a_booking_plans_one_s12_whose_segments_say_who_when_where_and_what(
    site, listener, clinician_user, clock
):
    patient = PatientFactory(legal_last_name="O'Neil & Ruiz", legal_first_name="José|Ana")
    appointment = visit(
        site, patient, tomorrow_at(clock, 10), order=authorized_order(patient, clinician_user)
    )

    [row] = siu_rows(appointment)
    assert (row.channel, row.kind, row.variant, row.state) == (
        Channel.MLLP,
        MessageKind.SIU_S12,
        "000001",
        MessageState.PENDING,
    )
    message = hl7.parse(row.body)
    msh, sch, tq1 = message.segment("MSH"), message.segment("SCH"), message.segment("TQ1")
    assert str(msh(9)) == "SIU^S12^SIU_S12"
    assert str(msh(10)) == hl7_control_id(row.id) and len(str(msh(10))) == 20
    assert str(msh(12)) == "2.5.1"
    assert str(sch(2)(1)(1)) == str(appointment.calendar_uid)
    assert str(sch(25)) == "Booked"
    assert str(sch(9)) == str(int((appointment.end - appointment.start).total_seconds() // 60))
    local_start = appointment.start.astimezone(site["location"].zone)
    assert hl7.parse_datetime(str(tq1(7))) == local_start
    pid = message.segment("PID")
    assert str(pid(3)(1)(1)) == patient.mrn
    assert message.unescape(str(pid(5)(1)(1))) == "O'Neil & Ruiz"
    assert message.unescape(str(pid(5)(1)(2))) == "José|Ana"
    assert str(pid(7)) == patient.date_of_birth.strftime("%Y%m%d")
    assert str(message.segment("AIS")(3)(1)(1)) == site["procedure_type"].code
    assert str(message.segment("AIL")(3)(1)(1)) == site["location"].code
    assert str(message.segment("AIL")(3)(1)(2)) == site["suite"].name
    assert str(message.segment("AIP")(3)(1)(2)) == site["provider"].last_name
    assert [str(s(0)) for s in message] == [
        "MSH", "SCH", "TQ1", "PID", "PV1", "RGS", "AIS", "AIL", "AIP"
    ]  # fmt: skip


def test_nothing_is_planned_while_no_endpoint_is_configured(site, settings, clock):
    settings.HL7_MLLP_HOST = ""
    appointment = visit(site, PatientFactory(), tomorrow_at(clock, 10))
    assert siu_rows(appointment) == []
    assert not Message.objects.filter(channel=Channel.MLLP).exists()


# --- Sent in order, each once --------------------------------------------------------------


def test_booked_moved_and_cancelled_visit_sends_s12_s13_s15_once_each_in_order(
    site, listener, front_desk_user, clock
):
    listener.start()
    appointment = visit(site, PatientFactory(), tomorrow_at(clock, 10))
    moved = appointment_reschedule(
        appointment=appointment, start=tomorrow_at(clock, 14), by=Actor.system()
    )
    move(moved, AppointmentStatus.CANCELLED, front_desk_user, reason="Patient called")

    rows = siu_rows(moved)
    assert [r.kind for r in rows] == [MessageKind.SIU_S12, MessageKind.SIU_S13, MessageKind.SIU_S15]
    assert deliver(*reversed(rows)) == ["sent", "sent", "sent"]  # sorted into their order

    assert listener.received.triggers() == [
        "SIU^S12^SIU_S12", "SIU^S13^SIU_S12", "SIU^S15^SIU_S12"
    ]  # fmt: skip
    s13 = listener.received.messages()[1]
    assert hl7.parse_datetime(str(s13.segment("TQ1")(7))) == moved.start
    assert str(listener.received.messages()[2].segment("SCH")(25)) == "Cancelled"
    assert {str(m.segment("SCH")(2)(1)(1)) for m in listener.received.messages()} == {
        str(appointment.calendar_uid)
    }
    assert all(r.state == MessageState.SENT and r.provider_message_id for r in siu_rows(moved))
    assert deliver(*rows) == ["already-sent"] * 3
    assert len(listener.received.texts) == 3


def test_same_time_with_another_room_is_s14_and_a_no_show_is_s26(
    site, listener, front_desk_user, clock
):
    clock.move_to(clock.day_at(1, time(8), DENVER), tick=False)
    listener.start()
    appointment = visit(site, PatientFactory(), clock.day_at(1, time(9), DENVER))
    other_room = type(site["room"]).objects.create(
        location=site["location"], name="Consult 2", kind=site["room"].kind
    )
    same_time = appointment_reschedule(
        appointment=appointment, start=appointment.start, room=other_room, by=Actor.system()
    )
    clock.move_to(clock.day_at(1, time(9, 30), DENVER), tick=False)
    move(same_time, AppointmentStatus.NO_SHOW, front_desk_user)
    appointment_undo(appointment=same_time, by=Actor.desk(front_desk_user))

    rows = siu_rows(same_time)
    assert [r.kind for r in rows] == [
        MessageKind.SIU_S12, MessageKind.SIU_S14, MessageKind.SIU_S26, MessageKind.SIU_S14
    ]  # fmt: skip
    assert deliver(*rows) == ["sent"] * 4
    messages = listener.received.messages()
    assert str(messages[1].segment("AIL")(3)(1)(2)) == "Consult 2"
    assert str(messages[2].segment("SCH")(25)) == "Noshow"
    assert str(messages[3].segment("SCH")(25)) == "Booked"


def test_an_undone_cancellation_books_the_visit_again_with_s12(
    site, listener, front_desk_user, clock
):
    appointment = visit(site, PatientFactory(), tomorrow_at(clock, 10))
    move(appointment, AppointmentStatus.CANCELLED, front_desk_user, reason="By mistake")
    appointment_undo(appointment=appointment, by=Actor.desk(front_desk_user))
    assert [r.kind for r in siu_rows(appointment)] == [
        MessageKind.SIU_S12, MessageKind.SIU_S15, MessageKind.SIU_S12
    ]  # fmt: skip


def test_a_later_event_waits_until_the_earlier_one_is_acknowledged(
    site, listener, front_desk_user, clock
):
    appointment = visit(site, PatientFactory(), tomorrow_at(clock, 10))
    move(appointment, AppointmentStatus.CANCELLED, front_desk_user, reason="Patient called")
    s12, s15 = siu_rows(appointment)

    assert deliver(s12) == ["retry-later"]  # the listener is down
    s12.refresh_from_db()
    assert (s12.state, s12.attempts) == (MessageState.PENDING, 1)
    assert "ConnectionRefusedError" in s12.last_error
    assert deliver(s15) == ["waits-for-earlier"]
    s15.refresh_from_db()
    assert (s15.state, s15.attempts, s15.enqueued_at) == (MessageState.PENDING, 0, None)
    assert s15.send_after > timezone.now()

    listener.start()
    assert deliver(s15, s12) == ["sent", "sent"]
    assert listener.received.triggers() == ["SIU^S12^SIU_S12", "SIU^S15^SIU_S12"]


# --- ACKs ------------------------------------------------------------------------------------


def test_an_error_ack_is_retried_then_failed_shown_to_staff_and_holds_the_rest_back(
    site, listener, front_desk_user, settings, client, clock
):
    settings.HL7_MLLP_MAX_ATTEMPTS = 2
    listener.received.ack_code = "AE"
    listener.start()
    appointment = visit(site, PatientFactory(), tomorrow_at(clock, 10))
    move(appointment, AppointmentStatus.CANCELLED, front_desk_user, reason="Patient called")
    s12, s15 = siu_rows(appointment)

    assert deliver(s12) == ["retry-later"]
    s12.refresh_from_db()
    assert s12.last_error == "The HL7 endpoint answered AE (application error)."
    assert s12.send_after > timezone.now() + timedelta(seconds=50)  # backoff
    assert deliver(s12) == ["failed"]
    assert deliver(s15) == ["waits-for-earlier"]
    assert len(listener.received.texts) == 2

    client.sign_in(front_desk_user)
    page = client.get(reverse("notifications:failed"))
    assert page.status_code == 200
    assert "HL7 SIU S12: visit booked" in page.content.decode()
    assert "HL7 interface (MLLP)" in page.content.decode()

    listener.received.ack_code = "AA"
    message_retry(message=s12, by=Actor.desk(front_desk_user))
    assert deliver(s12) == ["sent"]
    s15.refresh_from_db()
    assert s15.send_after <= timezone.now()  # woken by the ACK, not left to its wait
    assert deliver(s15) == ["sent"]
    assert listener.received.triggers()[-2:] == ["SIU^S12^SIU_S12", "SIU^S15^SIU_S12"]


def test_no_ack_within_the_timeout_is_retried(site, listener, settings, clock):
    settings.HL7_MLLP_TIMEOUT_SECONDS = 0.5
    listener.received.ack_code = None
    listener.start()
    [s12] = siu_rows(visit(site, PatientFactory(), tomorrow_at(clock, 10)))
    assert deliver(s12) == ["retry-later"]
    s12.refresh_from_db()
    assert (s12.state, s12.last_error) == (MessageState.PENDING, "HL7 endpoint: TimeoutError")


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("MSH|^~\\&|PM||X||20260101||ACK|9|P|2.5.1\rMSA|AA|OTHER", "another message"),
        ("MSH|^~\\&|PM||X||20260101||ACK|9|P|2.5.1\rMSA|AR|CTRL", "AR (application reject)"),
        ("garbage", "no ACK"),
    ],
)
def test_an_ack_for_another_message_a_reject_or_garbage_is_not_taken(answer, error):
    with pytest.raises(DeliveryError, match=re.escape(error)):
        acknowledged(answer, "CTRL")


def test_an_accepting_ack_returns_its_control_id():
    answer = "MSH|^~\\&|PM||X||20260101||ACK^S12^ACK|ACK42|P|2.5.1\rMSA|AA|CTRL"
    assert acknowledged(answer, "CTRL") == "ACK42"
