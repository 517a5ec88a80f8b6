"""Rate limits for pages and APIs, per client IP and per account, counted in the cache
(Redis) in fixed windows. While Redis is down, requests are let through rather than
refused: a lockout of every patient is worse than a short window without limits.

Sign-in is not limited here: django-axes does that on every path (clinic/users/
signin_limits.py). The client's address comes from the one definition, clinic/core/clientip.py.
"""

import hashlib
import logging
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import gettext
from redis import RedisError
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from .clientip import client_ip

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """'5/min', '20/hour', '100/day' or '10/300s'."""
        count, period = text.split("/")
        units = {"s": 1, "sec": 1, "min": 60, "hour": 3600, "day": 86400}
        if period.endswith("s") and period[:-1].isdigit():
            return cls(int(count), int(period[:-1]))
        return cls(int(count), units[period])


def _key(scope: str, kind: str, value: str) -> str:
    # Hashed: an email or a username is not written into Redis key names.
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{kind}:{digest}"


def hit(scope: str, *, ip: str, account: str = "") -> bool:
    """Count one attempt; False if the IP or the account is over the scope's limit."""
    rate = Rate.parse(settings.RATE_LIMITS[scope])
    keys = [_key(scope, "ip", ip)] + ([_key(scope, "account", account)] if account else [])
    try:
        over = False
        for key in keys:
            cache.add(key, 0, timeout=rate.seconds)
            if cache.incr(key) > rate.count:
                over = True
        return not over
    except (RedisError, OSError, ValueError):
        logger.warning("rate limit %s skipped: cache unavailable", scope)
        return True


def too_many(request, *, status: int = 429):
    return render(
        request,
        "ratelimited.html",
        {"retry": gettext("a few minutes")},
        status=status,
    )


def limit_posts(scope: str, account_field: str = ""):
    """Page decorator: POSTs over the scope's limit (per IP, and per the account named in
    `account_field` of the form) get a 429 page; GETs are not counted."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                account = request.POST.get(account_field, "") if account_field else ""
                if not account and request.user.is_authenticated:
                    account = str(request.user.pk)
                if not hit(scope, ip=client_ip(request), account=account):
                    return too_many(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class PatientPostThrottle(BaseThrottle):
    """DRF throttle: POSTs by patients count against `scope` per IP and per account, the
    same counters as the pages. Staff are not limited here. Subclass and set `scope`."""

    scope = ""

    def allow_request(self, request: Request, view: APIView) -> bool:
        user = request.user
        if request.method != "POST" or not user.is_authenticated or user.is_clinic_staff:
            return True
        return hit(self.scope, ip=client_ip(request), account=str(user.pk))

    def wait(self) -> float | None:
        return Rate.parse(settings.RATE_LIMITS[self.scope]).seconds


class BookingThrottle(PatientPostThrottle):
    scope = "booking"
