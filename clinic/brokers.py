"""Celery's broker transport options for the broker a URL names: Redis or RabbitMQ (AMQP).

The settings and the tests that switch brokers take them from here, so a worker and a
publisher on the same broker always agree. No Django import: the settings load this."""

from typing import Any
from urllib.parse import urlsplit

# Longer than any task may run (celery.py's task_time_limit), so Redis does not hand a task
# still running to a second worker.
REDIS_VISIBILITY_TIMEOUT = 3600

AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})
REDIS_SCHEMES = frozenset({"redis", "rediss", "sentinel"})


def broker_kind(url: str) -> str:
    """'redis', 'amqp', or the URL's scheme for anything else (memory:// in some tests)."""
    scheme = urlsplit(url).scheme
    if scheme in AMQP_SCHEMES:
        return "amqp"
    if scheme in REDIS_SCHEMES:
        return "redis"
    return scheme


def transport_options(url: str) -> dict[str, Any]:
    """kombu's transport options for the broker at `url`.

    Both: max_retries 0, so a publish that finds no connection makes one attempt to open
    one and gives up without kombu's 2 s sleep before a second (the outbox row stays
    pending for the next dispatcher run; docs/decisions/0019-producer-recovery.md).

    Redis: visibility_timeout (above), and socket timeouts so that a Redis that does not
    answer at all (host gone, half-open connection) fails a publish in seconds.

    RabbitMQ: publisher confirms, so a publish returns only once the broker has taken the
    message (without them basic.publish returns before the broker has it, and a message
    the broker refuses is lost silently); the dispatcher marks rows handed over only after
    that. RabbitMQ redelivers an unacknowledged task when the worker's connection closes,
    not after a timeout, so it needs no visibility timeout; a lost peer is found by AMQP
    heartbeats (Celery's broker_heartbeat) instead of socket timeouts."""
    options: dict[str, Any] = {"max_retries": 0}
    kind = broker_kind(url)
    if kind == "redis":
        options |= {
            "visibility_timeout": REDIS_VISIBILITY_TIMEOUT,
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
        }
    elif kind == "amqp":
        options |= {"confirm_publish": True}
    return options
