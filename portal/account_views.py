"""Account pages: register, confirm the email address, reset a password.

Views parse input, call portal/accounts.py and turn its errors into pages: ValidationFailed
-> 400 with the messages next to the fields, a link that cannot be used -> a page saying
why, with a way to start again.
"""

from django import forms
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django.views.generic import FormView

from clinic.core.errors import ValidationFailed
from clinic.core.ratelimit import limit_posts

from . import accounts
from .account_forms import (
    PortalPasswordResetForm,
    PortalSetPasswordForm,
    RegistrationForm,
    VerifyForm,
    add_service_errors,
)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("password", "password_confirm")
@never_cache
@limit_posts("register", account_field="email")
def register(request):
    """The same redirect follows every accepted form, whether or not the address already
    has an account: the difference is only in the email that address receives."""
    if request.user.is_authenticated:
        return redirect("home")
    form = RegistrationForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                accounts.registration_start(**form.service_arguments())
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            except accounts.EmailNotSent as exc:
                form.add_error(None, exc.detail)
                status = exc.status_code
            else:
                return redirect("register-sent")
    return render(request, "portal/accounts/register.html", {"form": form}, status=status)


def register_sent(request):
    return render(
        request, "portal/accounts/register_sent.html", {"link_hours": accounts.link_hours()}
    )


def _token_page(response):
    """Pages whose URL holds a token never send it to another site in a Referer header.
    Not "no-referrer": browsers then send `Origin: null` with the page's POST, which
    Django's CSRF check refuses."""
    response["Referrer-Policy"] = "same-origin"
    return response


def _link_problem(request, error: accounts.RegistrationLinkInvalid):
    return _token_page(
        render(
            request,
            "portal/accounts/verify_invalid.html",
            {"problem": error.code, "detail": error.detail},
            status=error.status_code,
        )
    )


@require_http_methods(["GET", "POST"])
@never_cache
def verify(request, token: str):
    """GET shows a button; only its POST creates the account (link scanners only GET)."""
    if request.method == "POST":
        try:
            user = accounts.registration_verify(token=token)
        except accounts.RegistrationLinkInvalid as exc:
            return _link_problem(request, exc)
        except ValidationFailed as exc:
            return _token_page(
                render(
                    request,
                    "portal/accounts/verify_invalid.html",
                    {"problem": "invalid", "detail": exc.detail},
                    status=400,
                )
            )
        auth_login(request, user, backend=MODEL_BACKEND)
        return redirect("portal:home")
    try:
        accounts.registration_check(token=token)
    except accounts.RegistrationLinkInvalid as exc:
        return _link_problem(request, exc)
    return _token_page(render(request, "portal/accounts/verify.html", {"form": VerifyForm()}))


class _BadRequestOnInvalid(FormView):
    """An invalid form is a 400, as on every other page. Mixed in before a FormView."""

    def form_invalid(self, form: forms.BaseForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


@method_decorator(limit_posts("password_reset", account_field="email"), name="dispatch")
class PasswordResetView(_BadRequestOnInvalid, auth_views.PasswordResetView):
    """Django's view with one email for every address: a reset link to a login, a "there is
    no account, register here" note to any other address. The page is the same."""

    form_class = PortalPasswordResetForm
    email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form: forms.BaseForm) -> HttpResponse:
        # Read when the email goes out, not once at import: the settings may change.
        self.extra_email_context = accounts.email_context()
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    pass


class PasswordResetConfirmView(_BadRequestOnInvalid, auth_views.PasswordResetConfirmView):
    form_class = PortalSetPasswordForm

    def dispatch(self, *args, **kwargs):
        return _token_page(super().dispatch(*args, **kwargs))


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    pass
