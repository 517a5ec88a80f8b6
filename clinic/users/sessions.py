"""Sessions end after a quiet spell: 15 minutes for staff, 30 for patients (settings).

Django's own expiry does the work: the session's age is set at sign-in from the role, and
SESSION_SAVE_EVERY_REQUEST renews it on each request, so it lapses only when idle."""

from django.conf import settings
from django.http import HttpRequest

from .models import User


def idle_seconds_for(user: User) -> int:
    if user.is_clinic_staff or user.is_superuser:
        return settings.SESSION_IDLE_SECONDS_STAFF
    return settings.SESSION_IDLE_SECONDS_PATIENT


def expire_when_idle(sender: type, request: HttpRequest, user: User, **kwargs) -> None:
    request.session.set_expiry(idle_seconds_for(user))
