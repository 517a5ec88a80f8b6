"""Sessions end after a quiet spell: 15 minutes for staff, 30 for patients (settings).

Django's own expiry does the work: the session's age is set at sign-in from the role, and
a signed-in request renews it by saving the session, at most once a minute (saving on every
request would cost an UPDATE each time). So a session lapses after its idle limit, give or
take that minute."""

import time

from django.conf import settings
from django.http import HttpRequest

from .models import User

RENEWED_AT = "_idle_renewed_at"
RENEW_EVERY_SECONDS = 60
# Sent by pages that refresh themselves (the desk calendar): such requests keep nobody in.
POLL_HEADER = "X-Clinic-Poll"


def idle_seconds_for(user: User) -> int:
    if user.is_clinic_staff or user.is_superuser:
        return settings.SESSION_IDLE_SECONDS_STAFF
    return settings.SESSION_IDLE_SECONDS_PATIENT


def expire_when_idle(sender: type, request: HttpRequest, user: User, **kwargs) -> None:
    request.session.set_expiry(idle_seconds_for(user))
    request.session[RENEWED_AT] = int(time.time())


class RenewIdleSessionMiddleware:
    """After SessionMiddleware: a modified session is saved (and its expiry moved on)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in_by_session = request.session.session_key is not None  # not by API token
        by_the_person = POLL_HEADER not in request.headers  # a page's own refresh is not
        if by_the_person and signed_in_by_session and user is not None and user.is_authenticated:
            now = int(time.time())
            if now - request.session.get(RENEWED_AT, 0) >= RENEW_EVERY_SECONDS:
                request.session[RENEWED_AT] = now
        return response
