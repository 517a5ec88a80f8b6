"""The two brokers Celery runs on here, Redis and RabbitMQ, for tests with a real worker.

`broker` is parametrized over both: the test's publishes (this process) and its workers
(children, through the environment) use the same one. RabbitMQ is the machine's shared
server: this session gets a virtual host of its own when rabbitmqctl may create one (as
root, or as user rabbitmq), deleted at the end with everything in it; otherwise the tests
use the server's default vhost, where every test's queues have names of their own and
are deleted after it. Either way, parallel runs never take each other's tasks.

The root conftest.py loads this module as a plugin, so the session's vhost is made once."""

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import kombu.pools
import pytest
import redis
from kombu import Connection

from clinic.brokers import broker_kind, transport_options
from clinic.celery import app

BROKERS = ("redis", "amqp")
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
VHOST = re.compile(r"clinic-test-(?P<pid>[0-9]+)-[0-9a-f]+")


@dataclass(frozen=True)
class Broker:
    kind: str  # "redis" or "amqp"
    url: str


def rabbitmq_url_from_env() -> str:
    """scripts/setup.sh exports RABBITMQ_URL; the machine's RabbitMQ otherwise."""
    return os.environ.get("RABBITMQ_URL") or RABBITMQ_URL


def answers(url: str) -> bool:
    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1, timeout=5)
            connection.default_channel  # noqa: B018  # opening a channel proves the vhost is ours
    except Exception:
        return False
    return True


def in_vhost(url: str, vhost: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + quote(vhost, safe="")))


def rabbitmqctl(*args: str) -> str | None:
    """Run rabbitmqctl against the local node: its output, or None if it is missing or
    refuses."""
    binary = shutil.which("rabbitmqctl")
    if binary is None:
        return None
    try:
        done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return None
    return done.stdout if done.returncode == 0 else None


def drop_vhosts_of_ended_sessions() -> None:
    """A session killed before its teardown leaves its vhost behind: drop those whose
    process is gone (a running session's process is alive)."""
    for line in (rabbitmqctl("-q", "list_vhosts", "name") or "").split():
        found = VHOST.fullmatch(line)
        if found and not Path(f"/proc/{found['pid']}").exists():
            rabbitmqctl("delete_vhost", line)


@contextmanager
def private_vhost(url: str) -> Iterator[str | None]:
    """A vhost of this session's own on the broker at `url` (its URL), or None when none can
    be made there (not root, no rabbitmqctl, or its node is not the one `url` names)."""
    vhost = f"clinic-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    user = unquote(urlsplit(url).username or "guest")
    if rabbitmqctl("add_vhost", vhost) is None:
        yield None
        return
    drop_vhosts_of_ended_sessions()
    try:
        allowed = rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        private = in_vhost(url, vhost)
        yield private if allowed is not None and answers(private) else None
    finally:
        rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """The URL of this session's RabbitMQ (see the module's docstring)."""
    unavailable = os.environ.get("RABBITMQ_UNAVAILABLE")
    if unavailable:  # scripts/setup.sh could neither find nor install one
        pytest.skip(f"no RabbitMQ on this machine: {unavailable}")
    shared = rabbitmq_url_from_env()
    if not answers(shared):
        where = urlsplit(shared)
        pytest.fail(
            f"cannot reach RabbitMQ at {where.hostname}:{where.port or 5672}: run the suite "
            "with `make test` (scripts/setup.sh starts or installs it) or set RABBITMQ_URL"
        )
    with private_vhost(shared) as private:
        yield private or shared


@contextmanager
def publishing_to(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's Celery app publishes to the broker at `url` (its connection and
    producer pools are made again, and put back after), and the children it starts inherit
    the URL. The result backend stays where the settings put it."""
    conf = app.conf
    saved = conf.broker_url, conf.broker_transport_options

    def new_pools() -> None:
        # Celery has no public way to drop the pools it made for the last broker URL; kombu's
        # reset closes them and forgets them, so the next publish makes new ones.
        app._pool = None
        app.amqp._producer_pool = None
        kombu.pools.reset()

    new_pools()
    monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery reads this before its settings
    conf.broker_url, conf.broker_transport_options = url, transport_options(url)
    try:
        yield
    finally:
        new_pools()
        monkeypatch.delenv("CELERY_BROKER_URL")
        conf.broker_url, conf.broker_transport_options = saved


@pytest.fixture(params=BROKERS)
def broker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Broker]:
    """The test runs once on Redis (the settings' broker) and once on RabbitMQ."""
    if request.param == "redis":
        url = app.conf.broker_url
        assert broker_kind(url) == "redis", f"the settings' broker is not Redis: {url}"
    else:
        url = request.getfixturevalue("rabbitmq_url")
    with publishing_to(url, monkeypatch):
        yield Broker(request.param, url)


def delete_queues(*queues: str) -> None:
    """Drop queues (and what routes to them) from the broker this process publishes to.
    Best effort: after the test the broker is someone else's problem."""
    url = app.conf.broker_url
    if broker_kind(url) == "redis":
        try:
            with redis.Redis.from_url(url, socket_timeout=2) as client:
                client.delete(*queues, *(f"_kombu.binding.{q}" for q in queues))
        except redis.RedisError:
            pass
        return
    try:
        with Connection(url, connect_timeout=3) as connection:
            channel = connection.default_channel
            for queue in queues:
                channel.queue_delete(queue)
                channel.exchange_delete(queue)  # Celery routes a queue by its own exchange
    except Exception:  # noqa: S110  # best effort, as above
        pass
