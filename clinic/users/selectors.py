from django.db.models import Q
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
