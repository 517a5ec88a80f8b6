"""A database that cannot be reached is an outage: every page and API answers 503 with
Retry-After, and the outage is logged once (per process) when it starts and once when it
ends, not once per request.

Only connection-level failures count: no SQLSTATE at all (the server is gone or refused the
connection), class 08 (connection exception) or 57P01-57P03 (the server is shutting down or
starting). A deadlock, a serialization failure or a cancelled statement is not an outage.
"""

import logging
import threading

from django.db import InterfaceError, OperationalError

logger = logging.getLogger("clinic.outage")

RETRY_AFTER_SECONDS = 30
CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")


def is_database_outage(error: BaseException | None) -> bool:
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    state = getattr(error.__cause__, "pgcode", None)
    return state is None or state.startswith(CONNECTION_STATES)


class OutageLog:
    """Whether this process is in an outage; logs only the changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = False

    def started(self, error: BaseException) -> None:
        with self._lock:
            if self.active:
                return
            self.active = True
        # The error's class only: its text can name the host and the database user.
        logger.error(
            "database unreachable (%s); answering 503 until it is back", type(error).__name__
        )

    def ended(self) -> None:
        if not self.active:
            return
        with self._lock:
            if not self.active:
                return
            self.active = False
        logger.warning("database reachable again")


outage_log = OutageLog()


class DatabaseOutageMiddleware:
    """Notes the end of an outage on the first answer that is not a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 500:
            outage_log.ended()
        return response
