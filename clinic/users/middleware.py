"""Staff without the second factor reach nothing: a signed-in session that owes it (see
two_factor.session_owes_second_factor) gets only the steps that settle it. Pages send it
to the second step, the API answers 403 in the one error body. Requests authenticated by
an API token never carry a session user here: tokens are issued only after the second
factor (clinic/users/serializers.py)."""

from functools import cached_property

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import urlencode

from clinic.core.errors import error_body

from .two_factor import session_owes_second_factor

API_PREFIX = "/api/"
# The names of the pages and endpoints that settle the second step (and signing out).
OPEN_URL_NAMES = (
    "two-factor-verify",
    "two-factor-setup",
    "logout",
    "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete",
    "otp_webauthn:js-i18n-catalog",
)
SECOND_FACTOR_REQUIRED = "second_factor_required"


class RequireSecondFactorMiddleware:
    """After OTPMiddleware (which gives request.user.is_verified())."""

    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def open_paths(self) -> frozenset[str]:
        return frozenset(reverse(name) for name in OPEN_URL_NAMES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if session_owes_second_factor(request):
            if request.path_info not in self.open_paths:
                return self.refuse(request)
            request.second_factor_pending = True  # type: ignore[attr-defined]
        return self.get_response(request)

    def refuse(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            body = error_body(
                SECOND_FACTOR_REQUIRED,
                "Finish signing in with your second factor (the app's code, a recovery code "
                "or a passkey) first.",
            )
            return JsonResponse(body, status=403)
        target = resolve_url("two-factor-verify")
        back = request.get_full_path() if request.method == "GET" else ""
        query = f"?{urlencode({REDIRECT_FIELD_NAME: back})}" if back else ""
        return HttpResponseRedirect(target + query)
