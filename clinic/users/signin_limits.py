"""Sign-in limits on every path, by django-axes (docs/decisions/0030-sign-in-limits-with-axes.md).

Every sign-in calls django.contrib.auth.authenticate(request=...): the sign-in page, the
admin (which sends people to that page) and POST /api/v1/auth/token/. AxesStandaloneBackend,
first in AUTHENTICATION_BACKENDS, refuses while the caller is paused; every failure is a row.

How it counts: axes keeps one AccessAttempt row per (username tried, client address, user
agent) with its failures and the time of the last. The username and the address are judged
each on its own (AXES_LOCKOUT_PARAMETERS), over their rows: once SIGNIN_FAILURE_LIMIT
failures are remembered for either, each failure pauses it for a delay that grows with the
count (`delay_after`: SIGNIN_FIRST_DELAY_SECONDS at the limit, doubling with each failure
after, at most SIGNIN_MAX_DELAY_SECONDS; also AXES_COOLOFF_TIME, `cool_off`). So a spray of
many accounts from one address and a guess at one account from many addresses are both
slowed to one try per delay. Failures are remembered until SIGNIN_FAILURE_MEMORY_SECONDS after
a row's last one; a successful sign-in forgets that account's. Tries refused while paused are
not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off): the owner who tries their
right password during a pause does not make it longer, and "try again in N minutes" holds.

Never locked out for good: a pause ends by itself, a manager can lift it, and the owner can
lift it from an emailed link (clinic/users/unlock.py).
"""

import math
import operator
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Aggregate, Max, Q, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from clinic.core.clientip import client_ip
from clinic.core.errors import error_body

API_PREFIX = "/api/"
PAUSED_CODE = "sign_in_paused"
PAUSED_TEMPLATE = "registration/signin_paused.html"
# Set in the session of the browser that opened an unlock link (clinic/users/unlock_views.py).
UNLOCKED_SESSION_KEY = "signin_unlocked"


def attempt_key(username: str) -> str:
    """A username as attempts are counted: "Desk1 " and "desk1" are one account."""
    return username.strip().lower()


def _posted(request: Any) -> Mapping:
    # A DRF request carries its parsed body in `data`; a Django one its form in `POST`.
    data = getattr(request, "data", None)
    return data if isinstance(data, Mapping) else request.POST


def attempt_username(request: Any, credentials: Mapping | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username a sign-in tried, from the credentials given to
    authenticate() or else from the posted form or body."""
    source = credentials if credentials is not None else _posted(request)
    value = source.get("username") if source else None
    if not isinstance(value, str) or not value.strip():
        return None
    return attempt_key(value)


def _address(request: Any) -> str:
    return getattr(request, "axes_ip_address", None) or client_ip(request)


@dataclass(frozen=True)
class Standing:
    """The failures remembered for one username or one address, and when the last was."""

    failures: int
    last: datetime | None

    @property
    def paused_until(self) -> datetime | None:
        if self.last is None or self.failures < settings.AXES_FAILURE_LIMIT:
            return None
        return self.last + delay_after(self.failures)

    def paused_at(self, moment: datetime) -> bool:
        until = self.paused_until
        return until is not None and until > moment


def delay_after(failures: int) -> timedelta:
    """The pause after `failures`: the first delay at the limit, doubled for each further
    failure, capped."""
    doublings = min(max(failures - settings.AXES_FAILURE_LIMIT, 0), 32)
    seconds = settings.SIGNIN_FIRST_DELAY_SECONDS * 2**doublings
    return timedelta(seconds=min(seconds, settings.SIGNIN_MAX_DELAY_SECONDS))


def standings(request: Any, credentials: Mapping | None = None) -> list[Standing]:
    """The standing of the address a sign-in comes from and of the username it tries, each
    on its own (AXES_LOCKOUT_PARAMETERS), in one query."""
    username = attempt_username(request, credentials)
    by = {"address": Q(ip_address=_address(request))}
    if username:
        by["username"] = Q(username=username)
    since = timezone.now() - timedelta(seconds=settings.SIGNIN_FAILURE_MEMORY_SECONDS)
    aggregates: dict[str, Aggregate] = {}
    for name, lookup in by.items():
        aggregates[f"{name}_failures"] = Sum("failures_since_start", filter=lookup)
        aggregates[f"{name}_last"] = Max("attempt_time", filter=lookup)
    either = reduce(operator.or_, by.values())  # lets PostgreSQL use both columns' indexes
    rows = AccessAttempt.objects.filter(either, attempt_time__gte=since)
    totals = rows.aggregate(**aggregates)
    return [Standing(totals[f"{name}_failures"] or 0, totals[f"{name}_last"]) for name in by]


def cool_off(request: Any = None) -> timedelta:
    """AXES_COOLOFF_TIME: the pause this sign-in's failures have earned so far."""
    if request is None:
        return delay_after(0)
    credentials = getattr(request, "axes_credentials", None)
    failures = max(standing.failures for standing in standings(request, credentials))
    return delay_after(failures)


def pause_remaining(request: Any, credentials: Mapping | None = None) -> timedelta:
    """How long until this sign-in is let through (zero if it is not paused)."""
    now = timezone.now()
    ends = [standing.paused_until for standing in standings(request, credentials)]
    return max(
        [until - now for until in ends if until is not None and until > now], default=timedelta(0)
    )


@dataclass(frozen=True)
class Pause:
    seconds: int

    @classmethod
    def of(cls, request: Any, credentials: Mapping | None = None) -> "Pause":
        remaining = pause_remaining(request, credentials).total_seconds()
        return cls(seconds=max(math.ceil(remaining), 1))

    @property
    def wording(self) -> str:
        """'1 minute', '8 minutes', '1 hour': rounded up, never 'now'."""
        minutes = math.ceil(self.seconds / 60)
        if minutes >= 60 and minutes % 60 == 0:
            hours = minutes // 60
            return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}

    @property
    def detail(self) -> str:
        return (
            f"Too many failed sign-ins for this account or from this address. Try again in "
            f"{self.wording}, or ask for an unlock link by email at {reverse('signin-unlock')}."
        )


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: Mapping | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: what a paused sign-in gets, 429 with Retry-After: a page with
    the wait and the unlock link, or the one API error body."""
    pause = Pause.of(request, credentials)
    response: HttpResponse
    if request.path_info.startswith(API_PREFIX):
        body = error_body(PAUSED_CODE, pause.detail)
        response = JsonResponse(body, status=429)
    else:
        context = {"wait": pause.wording}
        response = render(request, PAUSED_TEMPLATE, context, status=429)
    response["Retry-After"] = str(pause.seconds)
    return response


def unlocked_in_this_browser(request: Any, credentials: Mapping | None = None) -> bool:
    """AXES_WHITELIST_CALLABLE: the browser that opened an account's unlock link signs in to
    that account for a few minutes even while its address is paused (a pause for the
    address may come from someone else behind the same address). Only that account: the
    link lifts no limit on any other."""
    session = getattr(request, "session", None)
    marker = session.get(UNLOCKED_SESSION_KEY) if session is not None else None
    if not isinstance(marker, dict):
        return False
    username = attempt_username(request, credentials)
    return (
        bool(username)
        and marker.get("username") == username
        and marker.get("until", 0) > time.time()
    )


def mark_unlocked_in_this_browser(request: HttpRequest, *, username: str) -> None:
    until = time.time() + settings.SIGNIN_UNLOCKED_BROWSER_SECONDS
    request.session[UNLOCKED_SESSION_KEY] = {"username": attempt_key(username), "until": until}


class SignInAttemptHandler(AxesDatabaseHandler):
    """AXES_HANDLER: axes' database handler (its rows, its failure log, its signals) with
    this clinic's pause, memory and reset rules."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """The failures of the username or the address that is paused now; 0 when neither
        is. axes pauses a sign-in when this reaches AXES_FAILURE_LIMIT."""
        now = timezone.now()
        paused = [s.failures for s in standings(request, credentials) if s.paused_at(now)]
        return max(paused, default=0)

    def clean_expired_user_attempts(
        self, request: HttpRequest | None = None, credentials: dict | None = None
    ) -> int:
        """Forget a row SIGNIN_FAILURE_MEMORY_SECONDS after its last failure, whatever the
        delay of the request at hand (axes would use that request's delay for every row)."""
        memory = timedelta(seconds=settings.SIGNIN_FAILURE_MEMORY_SECONDS)
        count, _ = AccessAttempt.objects.filter(attempt_time__lt=timezone.now() - memory).delete()
        return count

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """After a successful sign-in (AXES_RESET_ON_SUCCESS): that account's failures are
        forgotten, from every address, so they stop counting against the address too. Other
        accounts' failures from the same address stay: signing in to one's own account
        must not wipe the count of a spray from there."""
        username = attempt_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
