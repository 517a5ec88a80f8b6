"""Send tasks deliver batches: email over one SMTP connection per batch (a real SMTP server,
aiosmtpd, on a free port), each message still claimed and recorded on its own; the
dispatcher claims until nothing is due and queues its next run when it stops early."""

import re
import socket
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import redis
from aiosmtpd.controller import Controller
from django.utils import timezone

from clinic.celery import app
from notifications.delivery import deliver_batch
from notifications.dispatcher import dispatch_due, recover_stale
from notifications.models import Message, MessageKind, MessageState
from notifications.tasks import dispatch_due_messages

from .conftest import days_ahead_at, email_patient
from .test_plans import book, planned

pytestmark = pytest.mark.django_db

KEY = re.compile(rb"^X-Clinic-Message:\s*(\S+)", re.MULTILINE | re.IGNORECASE)
REFUSED = "refused@example.com"


class Recorder:
    """Counts SMTP sessions and the outbox key of each message taken; refuses one address."""

    def __init__(self) -> None:
        self.sessions = 0
        self.keys: Counter = Counter()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.sessions += 1
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.keys[KEY.search(envelope.original_content).group(1).decode()] += 1
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield recorder
    finally:
        controller.stop()


def confirmations(site, front_desk_user, count: int, **patient_fields) -> list[str]:
    """`count` email confirmations, due now (each a booking of its own, a day apart)."""
    ids = []
    for _ in range(count):
        day = 3 + Message.objects.filter(kind=MessageKind.APPOINTMENT_CONFIRMATION).count()
        visit = book(
            site, front_desk_user, email_patient(**patient_fields), days_ahead_at(day, 9, 30)
        )
        ids.append(str(planned(visit)[(MessageKind.APPOINTMENT_CONFIRMATION, "")].pk))
    return ids


def states(ids) -> Counter:
    return Counter(Message.objects.filter(pk__in=ids).values_list("state", flat=True))


def test_a_batch_of_emails_goes_over_one_smtp_connection(smtp, site, front_desk_user):
    ids = confirmations(site, front_desk_user, 5)
    assert deliver_batch(ids) == ["sent"] * 5
    assert smtp.sessions == 1, "one connection for the whole batch"
    assert smtp.keys == Counter(ids), "each message taken once"
    assert states(ids) == {MessageState.SENT: 5}
    assert set(Message.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}


def test_a_batch_run_again_or_listing_a_message_twice_sends_each_once(smtp, site, front_desk_user):
    first, second = confirmations(site, front_desk_user, 2)
    assert deliver_batch([first, second, first]) == ["sent", "sent", "already-sent"]
    assert deliver_batch([first, second]) == ["already-sent", "already-sent"]  # redelivered
    assert smtp.keys == Counter([first, second])
    assert set(
        Message.objects.filter(pk__in=[first, second]).values_list("attempts", flat=True)
    ) == {1}


def test_a_refused_message_is_retried_later_and_the_rest_of_the_batch_still_goes(
    smtp, site, front_desk_user
):
    before = confirmations(site, front_desk_user, 1)
    refused = confirmations(site, front_desk_user, 1, email=REFUSED)
    after = confirmations(site, front_desk_user, 1)
    outcomes = deliver_batch(before + refused + after)
    assert outcomes == ["sent", "retry-later", "sent"]
    assert smtp.sessions == 2, "a fresh connection after the error"
    assert smtp.keys == Counter(before + after)
    message = Message.objects.get(pk=refused[0])
    assert (message.state, message.attempts) == (MessageState.PENDING, 1)
    assert message.send_after > timezone.now() and message.enqueued_at is None


def test_one_dispatcher_run_hands_over_every_due_message(site, front_desk_user, settings):
    ids = confirmations(site, front_desk_user, 7)
    Message.objects.filter(pk__in=ids).update(enqueued_at=None)  # as if never published
    report = dispatch_due(batch_size=2)
    assert sorted(report.handed_over) == sorted(ids), "claimed batch after batch until none"
    assert report.more is False


def test_a_run_that_spends_its_budget_queues_the_next_run_at_once(site, front_desk_user, settings):
    queue = f"dispatch-test-{uuid.uuid4().hex[:8]}"
    settings.NOTIFY_DISPATCH_QUEUE = queue
    settings.NOTIFY_DISPATCH_BUDGET_SECONDS = 0
    ids = confirmations(site, front_desk_user, 3)
    Message.objects.filter(pk__in=ids).update(enqueued_at=None)
    settings.NOTIFY_BATCH_SIZE = 2
    client = redis.Redis.from_url(app.conf.broker_url, socket_timeout=2)
    try:
        assert dispatch_due_messages() == 2, "one claim of 2, then the budget is spent"
        assert client.llen(queue) == 1, "the next run waits on the dispatch queue"
        assert Message.objects.filter(pk__in=ids, enqueued_at__isnull=True).count() == 1
    finally:
        client.delete(queue, f"_kombu.binding.{queue}")


def test_a_worker_lost_mid_batch_gives_its_unclaimed_batch_mates_back(
    site, front_desk_user, settings
):
    ids = confirmations(site, front_desk_user, 3)
    handed_at = timezone.now() - timedelta(seconds=settings.NOTIFY_SENDING_LEASE_SECONDS + 5)
    Message.objects.filter(pk__in=ids).update(enqueued_at=handed_at)
    Message.objects.filter(pk=ids[0]).update(
        state=MessageState.SENDING, claimed_at=handed_at, attempts=1
    )
    other = confirmations(site, front_desk_user, 1)  # handed over in another run: left alone
    Message.objects.filter(pk__in=other).update(enqueued_at=timezone.now())
    report = recover_stale()
    assert report.recovered_pending == 1
    released = Message.objects.filter(pk__in=ids + other, enqueued_at__isnull=True)
    assert sorted(str(pk) for pk in released.values_list("pk", flat=True)) == sorted(ids)
    assert states(ids) == {MessageState.PENDING: 3}


def test_the_dispatcher_stops_handing_over_while_enough_send_tasks_wait(
    site, front_desk_user, settings
):
    settings.NOTIFY_BATCH_SIZE = settings.NOTIFY_SEND_BATCH_SIZE = 1
    settings.NOTIFY_QUEUE_HIGH_WATER = 2
    ids = confirmations(site, front_desk_user, 5)
    Message.objects.filter(pk__in=ids).update(enqueued_at=None)
    client = redis.Redis.from_url(app.conf.broker_url, socket_timeout=2)
    client.delete(settings.NOTIFICATIONS_QUEUE)
    report = dispatch_due()
    assert len(report.handed_over) == 2 and report.queue_full, "two tasks wait: it stops"
    assert client.llen(settings.NOTIFICATIONS_QUEUE) == 2
    assert Message.objects.filter(pk__in=ids, enqueued_at__isnull=True).count() == 3
    client.delete(settings.NOTIFICATIONS_QUEUE)  # the workers caught up
    assert len(dispatch_due().handed_over) == 2, "the next run goes on"
