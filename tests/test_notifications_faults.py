"""The outbox under faults, with real processes: a worker killed in the middle of a send, two
dispatchers at once, and the broker going away during a burst. Whatever happens, every
message is delivered exactly once (see test_notifications_delivery for how that is seen)."""

import json
import logging
import os
import shutil
import signal
import socket
import threading
import time
from base64 import b64decode
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone

from clinic.celery import app
from notifications.dispatcher import dispatch_due, publish
from notifications.models import Message, MessageKind, MessageState, NotificationPolicy, SubjectType
from notifications.services import message_schedule
from notifications.tests.conftest import email_patient, sms_patient
from tests import test_notifications_delivery as delivery
from tests.support import child_env, free_port, stop, wait_for
from tests.test_notifications_delivery import (
    all_sent,
    due_now,
    record,
    states,
    wait_until_ready,
    worker_args,
)

# The delivery tests' fixtures: a private queue and file outboxes, processes, a clinic site.
outbox, processes, site = delivery.outbox, delivery.processes, delivery.site

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def procedure_done(site, clinician, patient):
    """A performed procedure whose own follow-up messages are all in the future: a subject
    for messages due now that nothing else sends."""
    return record(site, patient, clinician, "tfesi_ls", timezone.now() - timedelta(minutes=30))


# --- A worker killed while sending ------------------------------------------------------------


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    outbox, processes, site, clinician_user, settings
):
    subject = procedure_done(site, clinician_user, sms_patient())
    ids = due_now(subject, 10, prefix="kill")
    outbox.hold(ids)  # every send waits until the test has killed the worker inside one
    slow = processes(
        worker_args(outbox, "slow"),
        outbox.env(SMS_FILE_HOLD_PATH=str(outbox.hold_path)),
        "slow-worker",
    )
    assert len(dispatch_due().handed_over) == 10

    def in_flight():
        return Message.objects.filter(pk__in=ids, state=MessageState.SENDING).first()

    interrupted = wait_for(in_flight, timeout=90, what="a send to start", interval=0.05)
    os.killpg(slow.pid, signal.SIGKILL)  # the worker and its pool child, inside the send
    slow.wait(timeout=10)
    outbox.release()
    key = str(interrupted.pk)
    assert not (outbox.sms_dir / f"{key}.json").exists(), "killed before the provider took it"
    assert interrupted.attempts == 1

    # A new worker takes the rest from the queue; the send it lost is the dispatcher's to find.
    settings.NOTIFY_SENDING_LEASE_SECONDS = 4
    processes(worker_args(outbox, "restarted"), outbox.env(), "restarted-worker")
    recovered = 0

    def dispatch_until_all_sent():
        nonlocal recovered
        recovered += dispatch_due().recovered_pending
        return all_sent(ids)

    wait_for(dispatch_until_all_sent, timeout=60, what="every message to be sent", interval=0.5)
    outbox.assert_exactly_once(ids)
    assert recovered == 1, "the one the killed worker was sending went back to pending, once"
    attempts = dict(Message.objects.filter(pk__in=ids).values_list("pk", "attempts"))
    assert attempts.pop(interrupted.pk) == 2, "the interrupted send was made again"
    assert set(attempts.values()) == {1}


# --- Two dispatchers at once ------------------------------------------------------------------


def test_two_dispatchers_at_once_hand_over_disjoint_sets_and_each_message_goes_once(
    outbox, processes, site, clinician_user
):
    ids = set()
    for patient in (sms_patient(), email_patient()):
        subject = procedure_done(site, clinician_user, patient)
        ids |= set(due_now(subject, 100, prefix="race"))
    worker = processes(worker_args(outbox, "worker", concurrency=2), outbox.env(), "worker")
    wait_until_ready(worker)

    clock = timezone.now()
    start = threading.Barrier(2)
    handed: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def dispatcher(name: str):
        try:
            start.wait(timeout=10)
            handed[name] = dispatch_due(now=clock, batch_size=10).handed_over
        except BaseException as error:  # reported by the test thread
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=dispatcher, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    a, b = handed["a"], handed["b"]
    assert len(a) == len(set(a)) and len(b) == len(set(b)), "no dispatcher hands one over twice"
    assert set(a) & set(b) == set(), "the two dispatchers claimed the same message"
    assert set(a) | set(b) == ids, "between them they handed over every message"
    assert a and b, f"both dispatchers took part ({len(a)} and {len(b)})"

    wait_for(lambda: all_sent(ids), timeout=90, what="all 200 messages to be sent")
    outbox.assert_exactly_once(ids)
    assert set(Message.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}


# --- The broker stopped and started again ----------------------------------------------------


@contextmanager
def connection_attempts(port: int):
    """The attempts this process makes to open a TCP connection to `port`: a spy on
    `socket.connect`, which redis-py calls once for each. A publish that retries would
    connect again (after kombu's 2 s sleep), so counting attempts shows that a publish to a
    broker that is down fails at once, without timing it."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        if isinstance(address, tuple) and address[1] == port:
            attempts.append(address)
        return real_connect(sock, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        yield attempts


class PrivateRedis:
    """A redis-server of this test's own, on a free port, without persistence: stopping it
    loses whatever was queued in it. (Never the machine's shared Redis.)"""

    def __init__(self, binary: str, processes):
        self.binary, self.processes = binary, processes
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no"]
        self.process = self.processes(args, child_env(), f"redis-{self.runs}")
        wait_for(
            self.answers, timeout=15, what=f"the private redis-server ({self.process.log_path})"
        )

    def answers(self) -> bool:
        assert self.process.poll() is None, f"redis-server stopped; see {self.process.log_path}"
        with redis.Redis.from_url(self.url, socket_timeout=1) as client:
            return client.ping()

    def stop(self) -> None:
        stop(self.process)

    def queued(self, queue: str) -> int:
        """How many message ids wait in the queue's send tasks (a task carries a batch)."""
        with redis.Redis.from_url(self.url, socket_timeout=2) as client:
            tasks = [json.loads(raw) for raw in client.lrange(queue, 0, -1)]
        return sum(len(json.loads(b64decode(task["body"]))[0][0]) for task in tasks)


def private_redis(processes) -> PrivateRedis:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: this test stops and starts its own Redis")
    broker = PrivateRedis(binary, processes)
    broker.start()
    return broker


def private_worker(outbox, processes, broker: PrivateRedis, **env: str):
    worker = processes(
        worker_args(outbox, "worker", concurrency=2),
        outbox.env(
            CELERY_BROKER_URL=broker.url,
            CELERY_RESULT_BACKEND=broker.url,
            REDIS_URL=broker.url,
            **env,
        ),
        "worker",
    )
    wait_until_ready(worker)
    return worker


@contextmanager
def publishing_to(url: str, monkeypatch):
    """This process's Celery app uses `url` as production uses its one Redis: as broker and
    result backend (its pools and backend are made again from the new settings, and put
    back after). The app's own settings keep a publish to a broker that is down from
    blocking."""
    conf = app.conf
    saved = conf.broker_url, conf.result_backend

    def new_pools():
        app._pool = None
        app.amqp._producer_pool = None
        app._backend_cache = None
        app._local.__dict__.pop("backend", None)

    new_pools()
    monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery reads this before its settings
    conf.broker_url, conf.result_backend = url, url
    try:
        yield
    finally:
        private = app._pool
        new_pools()
        monkeypatch.delenv("CELERY_BROKER_URL")
        conf.broker_url, conf.result_backend = saved
        if private is not None:
            private.force_close_all()


def wait_for_progress(progress, *, total: int, what: str, worker, stall: float, limit: float):
    """Call progress() (how many of `total` are done) until all are. Fails as soon as the
    worker has stopped, or when the count has not grown for `stall` seconds; `limit` is only
    a backstop. A slow machine gets as long as it keeps making progress."""
    started = last_change = time.monotonic()
    best = -1
    while True:
        done = progress()
        now = time.monotonic()
        if done >= total:
            return
        assert worker.poll() is None, (
            f"the worker stopped while waiting for {what}; see {worker.log_path}"
        )
        if done > best:
            best, last_change = done, now
        assert now - last_change < stall, (
            f"no progress for {stall}s waiting for {what}: {done}/{total} (see {worker.log_path})"
        )
        assert now - started < limit, f"{what}: only {done}/{total} after {limit}s"
        time.sleep(0.5)


def test_publishing_fails_fast_while_the_broker_is_down_and_recovers_when_it_is_back(
    outbox, processes, site, clinician_user, monkeypatch
):
    """No worker: the queue in the private Redis shows what reached the broker."""
    broker = private_redis(processes)
    subject = procedure_done(site, clinician_user, sms_patient())
    ids = due_now(subject, 6, prefix="recover")
    Message.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())  # claimed, as dispatch

    def released(message_ids) -> int:
        return Message.objects.filter(pk__in=message_ids, enqueued_at__isnull=True).count()

    with publishing_to(broker.url, monkeypatch):
        assert publish(ids[:1]) == 1, "published while the broker is up (a pooled connection)"
        assert broker.queued(outbox.queue) == 1
        broker.stop()
        for message_id in ids[1:4]:  # each failure, not only the first on the dead connection
            with connection_attempts(broker.port) as attempts:
                assert publish([message_id]) == 0
            assert len(attempts) == 1, f"one attempt to reach the broker, not {len(attempts)}"
        assert released(ids[1:4]) == 3, "the rows not published wait for the next dispatch"

        broker.start()  # the same port, empty
        assert publish(ids[1:2]) == 1, "the very next publish after the broker is back"
        assert publish(ids[2:4]) == 2
        assert broker.queued(outbox.queue) == 3

        # Back again with no publish in between: the pooled connection's socket is stale.
        broker.stop()
        broker.start()
        assert publish(ids[4:]) == 2, "the first publishes after a quiet restart"
        assert broker.queued(outbox.queue) == 2


def test_a_worker_holding_a_task_when_the_broker_goes_away_reconnects(
    outbox, processes, site, clinician_user, monkeypatch
):
    """The send in progress leaves its task unacknowledged while the worker's next BRPOP
    waits: kombu 5.7.0 let that crash the worker (see clinic/celery.py)."""
    broker = private_redis(processes)
    worker = private_worker(outbox, processes, broker, SMS_FILE_HOLD_PATH=str(outbox.hold_path))
    subject = procedure_done(site, clinician_user, sms_patient())
    held = due_now(subject, 1, prefix="held")
    outbox.hold(held)  # its send waits, its task unacknowledged, until the worker reconnects

    with publishing_to(broker.url, monkeypatch):
        assert dispatch_due().handed_over == held
        wait_for(
            lambda: states(held)[MessageState.SENDING] == 1,
            timeout=90,
            what="the send to start",
            interval=0.05,
        )
        broker.stop()

        def reconnecting() -> int:  # 1 once the worker is in its reconnect loop
            log = worker.log_path.read_text(errors="replace")
            assert "Unrecoverable error" not in log, f"the worker crashed; see {worker.log_path}"
            return int("Cannot connect to" in log)

        wait_for_progress(
            reconnecting,
            total=1,
            what="the worker to retry the broker",
            worker=worker,
            stall=60,
            limit=60,
        )
        outbox.release()
        broker.start()
        after = due_now(subject, 3, prefix="after")

        def dispatched_and_sent() -> int:
            dispatch_due()
            return Message.objects.filter(pk__in=held + after, state=MessageState.SENT).count()

        wait_for_progress(
            dispatched_and_sent,
            total=4,
            what="sends after the restart",
            worker=worker,
            stall=45,
            limit=180,
        )
    outbox.assert_exactly_once(held + after)
    assert "Unrecoverable error" not in worker.log_path.read_text(errors="replace")


def test_a_broker_outage_during_a_burst_loses_nothing_and_sends_nothing_twice(
    outbox, processes, site, clinician_user, settings, monkeypatch, caplog
):
    caplog.set_level(logging.WARNING, logger="notifications.dispatcher")
    broker = private_redis(processes)
    worker = private_worker(outbox, processes, broker)
    subject = procedure_done(site, clinician_user, sms_patient())
    policy = NotificationPolicy.current()

    def burst(number: int) -> list[str]:
        """Ten messages due now, written in one transaction: each is published on commit."""
        with transaction.atomic():
            now = timezone.now()
            messages = [
                message_schedule(
                    patient=subject.patient,
                    kind=MessageKind.NEXT_DAY_CHECK,
                    subject_type=SubjectType.PROCEDURE_RECORD,
                    subject_id=subject.pk,
                    due_at=now,
                    location=subject.location,
                    variant=f"burst-{number}-{i}",
                    expires_at=now + timedelta(days=1),
                    policy=policy,
                )
                for i in range(10)
            ]
        return [str(m.pk) for m in messages]

    with publishing_to(broker.url, monkeypatch):
        before = [*burst(0), *burst(1), *burst(2)]
        broker.stop()
        during = [*burst(3), *burst(4)]
        assert states(during) == {MessageState.PENDING: 20}, "written, though not published"
        failures = [r for r in caplog.records if "could not queue" in r.getMessage()]
        assert len(failures) == 20, "each publish to the stopped broker failed and was logged"
        released = Message.objects.filter(pk__in=during, enqueued_at__isnull=True).count()
        assert released == 20, "released at once for the next dispatcher run"
        broker.start()  # empty: what was queued in it is gone
        after = burst(5)
        everything = before + during + after

        # Beat's runs. The first burst's tasks were in the Redis that restarted empty: those
        # hand-overs are made again after the requeue wait (shortened here from 5 minutes).
        settings.NOTIFY_REQUEUE_SECONDS = 3

        def dispatched_and_sent() -> int:
            dispatch_due()
            return Message.objects.filter(pk__in=everything, state=MessageState.SENT).count()

        wait_for_progress(
            dispatched_and_sent,
            total=len(everything),
            what="the whole burst to be sent",
            worker=worker,
            stall=45,
            limit=240,
        )
        late = [r for r in caplog.records if "could not queue" in r.getMessage()][20:]
        assert late == [], "no publish failed once the broker was back"
    outbox.assert_exactly_once(everything)
