"""Two Celery workers on one database and one broker (Redis, then RabbitMQ): a burst of due
messages, dispatched by two dispatcher runs at once, is delivered exactly once, and both
workers take part (see test_notifications_delivery for how "exactly once" is seen)."""

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone

from notifications.models import Message, MessageState
from notifications.tasks import dispatch_due_messages
from notifications.tests.conftest import sms_patient
from tests import test_notifications_delivery as delivery
from tests.test_notifications_delivery import due_now, record, wait_until_ready, worker_args

outbox, processes, site = delivery.outbox, delivery.processes, delivery.site

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("broker"),
]

BURST = 300
BATCH = 10  # 30 send tasks: enough for the two workers to share
SENT_LINE = re.compile(r"message ([0-9a-f-]{36}) sent by ")


def sent_by(log_path: Path) -> list[str]:
    """The ids a worker's log says it sent (delivery logs ids, never content)."""
    return SENT_LINE.findall(log_path.read_text(errors="replace"))


def wait_while_progressing(done: Callable[[], int], *, total: int, what: str, stall: float):
    """Wait until done() reaches `total`; fail once it has not grown for `stall` seconds."""
    best, last_change = -1, time.monotonic()
    while (count := done()) < total:
        if count > best:
            best, last_change = count, time.monotonic()
        assert time.monotonic() - last_change < stall, f"{what}: stuck at {count}/{total}"
        time.sleep(0.5)


def test_two_workers_share_a_burst_and_deliver_each_message_once(
    outbox, processes, site, clinician_user, settings
):
    subject = record(site, sms_patient(), clinician_user, "tfesi_ls", timezone.now())
    ids = due_now(subject, BURST, prefix="burst")
    # A short pause per text keeps a worker busy long enough for the other to take tasks.
    env = outbox.env(NOTIFY_SEND_BATCH_SIZE=str(BATCH), SMS_FILE_DELAY_SECONDS="0.02")
    workers = [
        processes(worker_args(outbox, name, concurrency=2), env, name) for name in ("one", "two")
    ]
    for worker in workers:
        wait_until_ready(worker)

    # Two dispatcher runs at once (beat on a slow tick would queue them so): each claims
    # rows the other has not (FOR UPDATE SKIP LOCKED) and hands them to the send queue.
    for _ in range(2):
        dispatch_due_messages.apply_async()

    def sent() -> int:
        for worker in workers:
            assert worker.poll() is None, f"a worker stopped; see {worker.log_path}"
        return Message.objects.filter(pk__in=ids, state=MessageState.SENT).count()

    wait_while_progressing(sent, total=BURST, what="the burst sent", stall=60)

    outbox.assert_exactly_once(ids)
    by_worker = [sent_by(worker.log_path) for worker in workers]
    assert sorted(by_worker[0] + by_worker[1]) == sorted(ids), "each sent once, by one worker"
    assert all(by_worker), f"both workers sent some: {[len(b) for b in by_worker]}"
    attempts = set(Message.objects.filter(pk__in=ids).values_list("attempts", flat=True))
    assert attempts == {1}, "no message was claimed twice"
