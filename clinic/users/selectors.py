from dataclasses import dataclass

from axes.models import AccessAttempt, AccessFailureLog
from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken

from .models import User
from .tokens import PREFIX_LENGTH, public_id


def user_profile(*, user: User) -> dict:
    patient = getattr(user, "patient", None)
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "patient": patient.id if patient else None,
    }


def user_tokens(*, user: User, current: AuthToken | None = None) -> list[dict]:
    """The user's unexpired API tokens, newest first: never the token, only its first
    characters and a public id (the start of the stored digest)."""
    now = timezone.now()
    live = AuthToken.objects.filter(user=user).filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
    return [
        {
            "id": public_id(token),
            "prefix": token.token_key[:PREFIX_LENGTH],
            "created": token.created,
            "expiry": token.expiry,
            "current": current is not None and token.digest == current.digest,
        }
        for token in live.order_by("-created")
    ]


def signin_failures() -> QuerySet[AccessFailureLog]:
    """Failed sign-ins (django-axes' failure log), newest first."""
    return AccessFailureLog.objects.order_by("-attempt_time", "-pk")


@dataclass(frozen=True)
class CountedFailures:
    """Who has failures that still count towards a pause: a pause can be lifted for them."""

    usernames: frozenset[str]
    addresses: frozenset[str]


def signin_counted_failures() -> CountedFailures:
    rows = AccessAttempt.objects.values_list("username", "ip_address")
    usernames, addresses = set(), set()
    for username, address in rows:
        usernames.add(username)
        addresses.add(address)
    return CountedFailures(frozenset(usernames - {None}), frozenset(addresses - {None}))
