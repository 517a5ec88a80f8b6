"""Read-only work on a streaming replica, with read-your-writes (docs/decisions/0033).

Nothing reads the replica unless it says so: a selector or view wraps its reads in
`reading_from_replica()` (availability, the physician's history, the manager's overview).
Everything else (bookings, exclusion constraints, outbox claims, anything in a transaction)
reads and writes the primary. Without a `replica` database configured
(DATABASE_REPLICA_URL), `reading_from_replica()` changes nothing.

Read-your-writes: a request that is not GET/HEAD/OPTIONS reads the primary throughout, and
when it succeeds its browser or client gets a signed cookie that keeps its reads on the
primary for READ_YOUR_WRITES_SECONDS, longer than the replica lags behind in practice."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.http import HttpRequest, HttpResponseBase

REPLICA_DB_ALIAS = "replica"
RECENT_WRITE_COOKIE = "clinic_wrote"
_COOKIE_SALT = "clinic.core.dbrouter.read-your-writes"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_replica_wanted: ContextVar[bool] = ContextVar("replica_wanted", default=False)
_pinned_to_primary: ContextVar[bool] = ContextVar("pinned_to_primary", default=False)


def replica_configured() -> bool:
    return REPLICA_DB_ALIAS in settings.DATABASES


@contextmanager
def reading_from_replica() -> Iterator[None]:
    """Reads inside go to the replica, unless this request must see its own writes or
    a transaction on the primary is open (it may read what it wrote or locked)."""
    token = _replica_wanted.set(True)
    try:
        yield
    finally:
        _replica_wanted.reset(token)


@contextmanager
def reading_from_primary(pinned: bool = True) -> Iterator[None]:
    token = _pinned_to_primary.set(pinned)
    try:
        yield
    finally:
        _pinned_to_primary.reset(token)


def read_alias() -> str:
    """The database a read made here goes to."""
    if (
        _replica_wanted.get()
        and not _pinned_to_primary.get()
        and replica_configured()
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        return REPLICA_DB_ALIAS
    return DEFAULT_DB_ALIAS


class PrimaryReplicaRouter:
    """Django's database router: writes to the primary always, reads as `read_alias()`."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool:
        # Both databases hold the same rows: a row read on the replica may point at one
        # read on the primary.
        return {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA_DB_ALIAS, None}

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica gets the primary's schema by replication


def wrote_recently(request: HttpRequest) -> bool:
    value = request.get_signed_cookie(
        RECENT_WRITE_COOKIE,
        default=None,
        salt=_COOKIE_SALT,
        max_age=settings.READ_YOUR_WRITES_SECONDS,
    )
    return value is not None


class ReadYourWritesMiddleware:
    """Pins a request to the primary when it writes or its client wrote a moment ago."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not replica_configured():
            return self.get_response(request)
        writes = request.method not in _SAFE_METHODS
        with reading_from_primary(writes or wrote_recently(request)):
            response = self.get_response(request)
        if writes and response.status_code < 400:
            response.set_signed_cookie(
                RECENT_WRITE_COOKIE,
                "1",
                salt=_COOKIE_SALT,
                max_age=settings.READ_YOUR_WRITES_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
