"""The second step of signing in, setting it up, and the "Two-step sign-in" page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from clinic.core.errors import DomainError

from .access import signed_in_user
from .forms import AppConfirmForm, SecondFactorCodeForm
from .two_factor import (
    has_authenticator_app,
    has_passkey,
    has_second_factor,
    is_verified,
    otpauth_qr_svg,
    recovery_codes_issue,
    second_factor_check,
    second_factor_summary,
    second_factor_turn_off,
    session_owes_second_factor,
    totp_device_confirm,
    totp_device_pending,
    totp_device_start,
    totp_secret,
)


def next_url(request: HttpRequest) -> str:
    """Where to go once the step is done: the `next` the request carries if it is ours."""
    wanted = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def with_next(url_name: str, request: HttpRequest) -> str:
    return f"{resolve_url(url_name)}?{urlencode({REDIRECT_FIELD_NAME: next_url(request)})}"


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """After the password: a code from the app, a recovery code, or a passkey."""
    user = signed_in_user(request)
    if not session_owes_second_factor(request):
        return redirect(next_url(request))
    if not has_second_factor(user):
        return redirect(with_next("two-factor-setup", request))
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = second_factor_check(user=user, code=form.cleaned_data["code"])
        if check.passed:
            otp_login(request, check.device)
            return redirect(next_url(request))
        form.add_error("code", check.message)
    context = {"form": form, "next": next_url(request), "has_passkey": has_passkey(user)}
    return render(request, "users/two_factor_verify.html", context)


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: forced at a staff member's first sign-in, chosen by a
    patient. A session that already owes a second factor must pass it first: knowing the
    password is not enough to add a device."""
    user = signed_in_user(request)
    if has_second_factor(user) and not is_verified(user):
        return redirect(with_next("two-factor-verify", request))
    if has_authenticator_app(user):
        return redirect("two-factor-settings")
    form = AppConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = totp_device_pending(user=user)
        if device is None:  # set up in another tab meanwhile
            return redirect(with_next("two-factor-setup", request))
        try:
            codes = totp_device_confirm(user=user, device=device, code=form.cleaned_data["code"])
        except DomainError as error:
            form.add_error("code", error.fields.get("code", [error.detail])[0])
        else:
            otp_login(request, device)
            return render_recovery_codes(request, codes)
    device = totp_device_start(user=user)
    context = {
        "form": form,
        "next": next_url(request),
        "otpauth_uri": device.config_url,
        "qr_svg": mark_safe(otpauth_qr_svg(device.config_url)),  # noqa: S308 (our own SVG)
        "secret": totp_secret(device),
    }
    return render(request, "users/two_factor_setup.html", context)


def render_recovery_codes(request: HttpRequest, codes: list[str]) -> HttpResponse:
    """Shown once, in the answer to the POST that made them: never stored in clear."""
    return render(
        request, "users/two_factor_recovery_codes.html", {"codes": codes, "next": next_url(request)}
    )


@login_required
def two_factor_settings(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    summary = second_factor_summary(user=user)
    return render(request, "users/two_factor_settings.html", {"summary": summary})


@require_POST
@login_required
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), for a user with an app or a passkey."""
    user = signed_in_user(request)
    if not (has_authenticator_app(user) or has_passkey(user)):
        messages.error(request, _("Set up an authenticator app or a passkey first."))
        return redirect("two-factor-settings")
    return render_recovery_codes(request, recovery_codes_issue(user=user))


@require_POST
@login_required
def two_factor_turn_off(request: HttpRequest) -> HttpResponse:
    try:
        second_factor_turn_off(user=signed_in_user(request))
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(
            request, _("Two-step sign-in is off. You sign in with your password only.")
        )
    return redirect("two-factor-settings")
