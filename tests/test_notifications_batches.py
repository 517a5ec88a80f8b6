"""The dispatcher's own queue and batched sends, with a real worker on each broker (Redis and
RabbitMQ, see tests/brokers.py): a dispatch queued behind thousands of sends is taken before
they drain, and a batch task redelivered after its worker process died sends nothing twice
(see test_notifications_delivery for how "exactly once" is seen)."""

import os
import signal
from pathlib import Path

import pytest
from django.db.models import Max
from django.utils import timezone

from notifications.dispatcher import dispatch_due, publish
from notifications.models import Message, MessageState
from notifications.tasks import dispatch_due_messages
from notifications.tests.conftest import sms_patient
from tests import test_notifications_delivery as delivery
from tests.support import wait_for
from tests.test_notifications_delivery import (
    all_sent,
    due_now,
    record,
    states,
    wait_until_ready,
    worker_args,
)

# The delivery tests' fixtures: private queues and file outboxes, processes, a clinic site.
outbox, processes, site = delivery.outbox, delivery.processes, delivery.site

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("broker"),
]

# Enough waiting sends that, in one FIFO queue, the dispatcher would wait for all of them.
BACKLOG = 300


def procedure_done(site, clinician):
    """A performed procedure whose own follow-ups are all in the future: a subject for
    messages due now that nothing else sends."""
    return record(site, sms_patient(), clinician, "tfesi_ls", timezone.now())


def test_a_dispatch_queued_behind_a_backlog_of_sends_runs_before_they_drain(
    outbox, processes, site, clinician_user, settings
):
    subject = procedure_done(site, clinician_user)
    backlog = due_now(subject, BACKLOG, prefix="backlog")
    # BACKLOG send tasks of one message each wait in the send queue before any worker runs ...
    settings.NOTIFY_SEND_BATCH_SIZE = 1
    Message.objects.filter(pk__in=backlog).update(enqueued_at=timezone.now())
    assert publish(backlog) == BACKLOG
    # ... then a message no task carries falls due, and beat queues the dispatcher.
    (marker,) = due_now(subject, 1, prefix="marker")
    dispatch_due_messages.apply_async()

    # (The dispatcher hands over no more while 200 tasks wait; here it must hand the marker
    # over behind the backlog, so that limit is lifted.)
    env = outbox.env(NOTIFY_QUEUE_HIGH_WATER=str(10 * BACKLOG))
    worker = processes(worker_args(outbox, "worker", concurrency=2), env, "worker")
    wait_until_ready(worker)
    everything = [*backlog, marker]
    wait_for(lambda: all_sent(everything), timeout=300, what="the backlog and the marker sent")

    dispatched_at = Message.objects.get(pk=marker).enqueued_at
    assert dispatched_at is not None, "the dispatcher handed the marker over"
    sent_first = Message.objects.filter(pk__in=backlog, sent_at__lte=dispatched_at).count()
    # Behind the sends in one queue it would have run after all of them (FIFO); on its own
    # queue it runs as soon as a pool process is free.
    assert sent_first < 100, f"{sent_first} of {BACKLOG} sends went before the dispatcher ran"
    last_backlog = Message.objects.filter(pk__in=backlog).aggregate(last=Max("sent_at"))["last"]
    assert dispatched_at < last_backlog
    outbox.assert_exactly_once(everything)


def pool_children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_a_batch_redelivered_after_its_process_died_sends_nothing_twice(
    outbox, processes, site, clinician_user, settings
):
    subject = procedure_done(site, clinician_user)
    ids = due_now(subject, 4, prefix="redelivered")
    handed = dispatch_due().handed_over  # queued: no worker runs yet
    assert sorted(handed) == sorted(ids), "one batch of four"
    first, interrupted, *rest = handed  # the order the batch sends them in
    outbox.hold([interrupted])  # its send waits until the test has killed the process in it
    worker = processes(
        worker_args(outbox, "worker"),
        outbox.env(SMS_FILE_HOLD_PATH=str(outbox.hold_path)),
        "worker",
    )

    def interrupted_sending():
        return Message.objects.filter(pk=interrupted, state=MessageState.SENDING).exists()

    wait_for(interrupted_sending, timeout=90, what="the second send to start", interval=0.05)
    assert all_sent([first]), "the batch sends in order: the first went before the second"
    (child,) = pool_children(worker.pid)
    os.kill(child, signal.SIGKILL)  # the pool process, inside the second send
    outbox.release()
    assert not (outbox.sms_dir / f"{interrupted}.json").exists(), "killed before the provider"

    # acks_late + reject_on_worker_lost: the batch goes back to the queue and runs again in
    # a new pool process. The first is sent already, the second is `sending` (skipped, its
    # claim stands), the rest are sent by the redelivered batch.
    wait_for(lambda: all_sent([first, *rest]), timeout=90, what="the redelivered batch")
    assert states([interrupted]) == {MessageState.SENDING: 1}
    assert "WorkerLostError" in worker.log_path.read_text(errors="replace")

    # The dispatcher recovers the interrupted one after its lease (longer than any send
    # here) and it goes once.
    settings.NOTIFY_SENDING_LEASE_SECONDS = 2

    def recovered_and_sent() -> bool:
        dispatch_due()
        return all_sent(ids)

    wait_for(recovered_and_sent, timeout=60, what="the interrupted one to be sent", interval=0.5)
    outbox.assert_exactly_once(ids)
    attempts = {
        str(pk): n for pk, n in Message.objects.filter(pk__in=ids).values_list("pk", "attempts")
    }
    assert attempts.pop(interrupted) == 2, "sent again after its recovery"
    assert set(attempts.values()) == {1}, "no message of the redelivered batch was claimed twice"
