"""HL7 SIU messages through the outbox on a real Celery worker and a real broker, to a local
MLLP listener that parses them with `hl7`: a visit booked, moved and cancelled arrives as
S12, S13 and S15, once each and in order, although the listener was down between the
booking and the cancellation. On Redis only: the order and the retries are the outbox's and
the worker's, the same on either broker, and the hand-over to RabbitMQ has tests of its own
(test_notifications_delivery, _batches, _two_workers)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.users.actor import Actor
from notifications.dispatcher import dispatch_due
from notifications.models import Message, MessageKind, MessageState, SubjectType
from notifications.services import hl7_control_id
from notifications.tests.conftest import sms_patient
from scheduling.models import AppointmentStatus
from scheduling.services import appointment_book, appointment_move, appointment_reschedule
from tests import mllp
from tests import test_notifications_delivery as delivery
from tests.support import wait_for
from tests.test_notifications_delivery import at, settled, wait_until_ready, worker_args

outbox, processes, site = delivery.outbox, delivery.processes, delivery.site
listener = mllp.listener

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("broker"),
]

SIU = ["SIU^S12^SIU_S12", "SIU^S13^SIU_S12", "SIU^S15^SIU_S12"]


def row(visit_id, kind: str) -> Message:
    return Message.objects.get(subject_type=SubjectType.VISIT, subject_id=visit_id, kind=kind)


@pytest.mark.parametrize("broker", ["redis"], indirect=True)
def test_booked_moved_cancelled_arrive_once_each_in_order_after_the_listener_was_down(
    outbox, processes, site, listener, front_desk_user
):
    listener.start()
    env = outbox.env(
        HL7_MLLP_HOST="127.0.0.1",
        HL7_MLLP_PORT=str(listener.port),
        HL7_MLLP_TIMEOUT_SECONDS="5",
    )
    wait_until_ready(processes(worker_args(outbox, "hl7"), env, "worker"))

    booked = appointment_book(
        patient=sms_patient(),
        appointment_type=site["type"],
        provider=site["provider"],
        location=site["location"],
        room=site["room"],
        start=at(site, 2, 10),
        by=Actor.system(),
    )
    visit_id = booked.calendar_uid
    s12 = row(visit_id, MessageKind.SIU_S12)
    wait_for(lambda: row(visit_id, MessageKind.SIU_S12).state == MessageState.SENT, 60, "S12")
    assert listener.received.triggers() == SIU[:1]

    listener.stop()  # the interface engine goes down
    moved = appointment_reschedule(appointment=booked, start=at(site, 2, 14), by=Actor.system())
    tried = wait_for(
        lambda: (
            row(visit_id, MessageKind.SIU_S13).attempts >= 1
            and row(visit_id, MessageKind.SIU_S13).enqueued_at is None
        ),
        60,
        "the worker to try the S13 while the listener is down",
    )
    assert tried
    s13 = row(visit_id, MessageKind.SIU_S13)
    assert (s13.state, s13.last_error) == (
        MessageState.PENDING,
        "HL7 endpoint: ConnectionRefusedError",
    )
    appointment_move(
        appointment=moved,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Patient called",
    )
    wait_for(
        lambda: row(visit_id, MessageKind.SIU_S15).enqueued_at is None,
        60,
        "the worker to hold the S15 back behind the S13",
    )
    s15 = row(visit_id, MessageKind.SIU_S15)
    assert (s15.state, s15.attempts) == (MessageState.PENDING, 0)

    listener.start()  # back up: the dispatcher's clock moves past the backoff
    clock = timezone.now()
    for _ in range(6):
        if Message.objects.filter(pk__in=[s13.pk, s15.pk], state=MessageState.SENT).count() == 2:
            break
        clock += timedelta(minutes=5)
        handed = dispatch_due(now=clock).handed_over
        wait_for(
            lambda handed=handed, clock=clock: settled(handed, clock),
            60,
            "the worker to deal with a hand-over",
        )

    rows = [row(visit_id, kind) for kind in (s12.kind, s13.kind, s15.kind)]
    assert [r.state for r in rows] == [MessageState.SENT] * 3
    assert listener.received.triggers() == SIU
    control_ids = [str(m.segment("MSH")(10)) for m in listener.received.messages()]
    assert control_ids == [hl7_control_id(r.id) for r in rows]
