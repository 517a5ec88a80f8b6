"""Celery through a real broker, Redis and RabbitMQ in turn, to a real worker process (no
eager mode)."""

import os
import uuid
from urllib.parse import unquote, urlsplit

import pytest
from django.core.cache import cache

from clinic.brokers import REDIS_VISIBILITY_TIMEOUT, transport_options
from clinic.celery import app
from clinic.core.health import BEAT_HEARTBEAT_KEY
from clinic.core.tasks import ping
from tests import brokers
from tests.support import artifacts, celery, child_env, kill, start, wait_for

pytestmark = pytest.mark.worker


def process_env() -> dict:
    return child_env(DJANGO_SETTINGS_MODULE="clinic.settings.test")


@pytest.fixture
def worker_queue(broker):
    """A worker on a queue of its own on `broker`, so no other worker can take the test's
    tasks."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log_path = artifacts("logs", f"celery-worker-{broker.kind}.log")
    worker = start(
        celery(
            "worker",
            "--queues",
            queue,
            "--concurrency",
            "1",
            "--hostname",
            f"{queue}@%h",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ),
        process_env(),
        log_path,
    )
    try:
        banner = wait_for(
            lambda: transport_line(log_path),
            timeout=60,
            what=f"the worker's banner ({log_path})",
            process=worker,
        )
        assert f"{broker.kind}://" in banner, "the worker consumes from the test's broker"
        yield queue
    finally:
        kill(worker)  # its warm shutdown would prove nothing here
        brokers.delete_queues(queue)


def transport_line(log_path) -> str | None:
    """The worker's startup banner line naming its broker."""
    lines = log_path.read_text(errors="replace").splitlines()
    return next((line for line in lines if "transport:" in line), None)


def test_tasks_sent_through_the_broker_run_on_a_real_worker_each_once(worker_queue):
    result = ping.apply_async(args=["hello"], queue=worker_queue)
    answer = result.get(timeout=60)
    assert answer["pong"] == "hello"
    assert answer["worker"].startswith(f"{worker_queue}@"), "ran in the worker, not in this process"

    tokens = [f"t{i}" for i in range(20)]
    results = [ping.apply_async(args=[token], queue=worker_queue) for token in tokens]
    assert [r.get(timeout=60)["pong"] for r in results] == tokens


def test_beat_really_starts_and_marks_itself_alive(tmp_path):
    cache.delete(BEAT_HEARTBEAT_KEY)
    beat = start(
        celery("beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "schedule")),
        process_env(),
        artifacts("logs", "celery-beat.log"),
    )
    try:
        wait_for(
            lambda: cache.get(BEAT_HEARTBEAT_KEY), timeout=60, what="beat's heartbeat", process=beat
        )
        assert beat.poll() is None, "beat is still running"
    finally:
        kill(beat)


def test_configuration_is_safe_for_delivery():
    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_url.startswith("redis://")
    assert conf.broker_transport_options == transport_options(conf.broker_url)
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert app.amqp.router.route({}, "notifications.tasks.send_message")["queue"].name == (
        "notifications"
    )
    assert app.amqp.router.route({}, "notifications.tasks.send_messages")["queue"].name == (
        "notifications"
    )
    assert app.amqp.router.route({}, "notifications.tasks.dispatch_due_messages")["queue"].name == (
        "dispatch"
    ), "the dispatcher never waits behind queued sends"
    assert app.amqp.router.route({}, "clinic.core.tasks.ping")["queue"].name == "default"
    assert "clinic.core.tasks.beat_heartbeat" in {
        entry["task"] for entry in conf.beat_schedule.values()
    }


def test_the_transport_options_follow_the_broker():
    redis_options = transport_options("redis://127.0.0.1:6379/0")
    assert redis_options["visibility_timeout"] == REDIS_VISIBILITY_TIMEOUT
    assert redis_options["max_retries"] == 0 and redis_options["socket_timeout"] > 0
    amqp_options = transport_options("amqp://guest:guest@127.0.0.1:5672//")
    # RabbitMQ confirms each publish and redelivers on a closed connection, not on a timeout.
    assert amqp_options == {"max_retries": 0, "confirm_publish": True}


def test_the_rabbitmq_runs_have_a_virtual_host_of_their_own(rabbitmq_url):
    vhosts = brokers.rabbitmqctl("-q", "list_vhosts", "name")
    if vhosts is None:
        pytest.skip("rabbitmqctl is not usable here: the runs share the default vhost")
    vhost = unquote(urlsplit(rabbitmq_url).path.removeprefix("/"))
    assert vhost.startswith(f"clinic-test-{os.getpid()}-"), "this session's own"
    assert vhost in vhosts.split()
