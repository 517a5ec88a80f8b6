"""Small helpers shared by the apps: for model definitions, and for transactions that meet
others on the same rows (advisory locks taken in one order, retries of a transaction that
PostgreSQL aborted for a deadlock or a serialization failure)."""

import functools
import hashlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any, ParamSpec, Self, TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db import OperationalError, connection, models, transaction

from .errors import Unavailable
from .outage import is_database_outage

logger = logging.getLogger("clinic.db")
P = ParamSpec("P")
R = TypeVar("R")


def choice_check(
    field: str, choices: type[models.TextChoices], name: str
) -> models.CheckConstraint:
    """A CHECK constraint that keeps a choices column to its choices in PostgreSQL too."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


def concrete_field(model: type[models.Model], name: str) -> "models.Field[Any, Any]":
    """The model's own field `name`, as `_meta.get_field` finds it, but never a reverse
    relation (those have no column, attname or to_python)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise FieldDoesNotExist(f"{model.__name__}.{name} is a reverse relation, not a field.")
    return field


def max_length(model: type[models.Model], name: str) -> int:
    """The max_length of the text field `name`, so a form field allows exactly as much."""
    length = concrete_field(model, name).max_length
    if length is None:
        raise TypeError(f"{model.__name__}.{name} has no max_length.")
    return length


class SingleRow(models.Model):
    """A table of one row (id 1): a clinic-wide policy edited by a manager in the admin.
    Subclasses add their own CheckConstraint `id = 1` in Meta."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)

    class Meta:
        abstract = True

    @classmethod
    def current(cls) -> Self:
        row, _ = cls._default_manager.get_or_create(id=1)
        return row


# --- Transactions that meet others ----------------------------------------------------------

# deadlock_detected and serialization_failure: PostgreSQL rolled the transaction back, and
# running it again may well succeed.
CONTENTION_STATES = frozenset({"40P01", "40001"})
CONTENTION_ATTEMPTS = 3


def is_contention(error: BaseException) -> bool:
    state = getattr(error.__cause__, "pgcode", None)
    return isinstance(error, OperationalError) and state in CONTENTION_STATES


def lock_keys(*keys: str) -> None:
    """Take a transaction-level advisory lock on each key (any text naming what is
    contended, e.g. "provider:<id>:<day>"), all in one statement and in one global order,
    so two transactions asking for overlapping keys queue instead of deadlocking. Released
    at commit or rollback. Keys are hashed to 64 bits: a collision only makes two unrelated
    writes wait for each other."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_keys() holds its locks until commit: call it in atomic().")
    numbers = sorted({_key_number(key) for key in keys})
    with connection.cursor() as cursor:
        # Ordered in a subquery, so the locks are taken in that order (PostgreSQL's own
        # advice for locking several advisory keys in one query).
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT k FROM unnest(%s::bigint[]) AS k ORDER BY k) AS ordered",
            [numbers],
        )


def _key_number(key: str) -> int:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def retry_on_contention(
    *, exhausted: Callable[..., Exception] | None = None, attempts: int = CONTENTION_ATTEMPTS
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated function, which owns a whole transaction, again (up to `attempts`
    times, after a short random pause) when PostgreSQL aborts it for a deadlock or a
    serialization failure. Then `exhausted(*args, **kwargs)` is raised (a domain error
    such as a 409), or the last error when none is given. Any other OperationalError that is
    not an outage (a lock or statement timeout) becomes `Unavailable`, a 503; an outage
    keeps its own 503. Called inside an outer atomic block, it retries nothing: the error
    goes up to the outermost transaction, the only one that can be run again."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for attempt in range(1, attempts + 1):
                try:
                    return function(*args, **kwargs)
                except OperationalError as error:
                    if transaction.get_connection().in_atomic_block or is_database_outage(error):
                        raise
                    if not is_contention(error):
                        logger.warning("%s refused: %s", function.__name__, type(error).__name__)
                        raise Unavailable() from error
                    logger.info("%s contended (attempt %d)", function.__name__, attempt)
                    if attempt == attempts:
                        if exhausted is None:
                            raise
                        raise exhausted(*args, **kwargs) from error
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter, not secrets
            raise AssertionError("unreachable")  # pragma: no cover

        return wrapper

    return decorate
