"""Which language a request is answered in, and the patient's switch between English and
Spanish.

- A signed-in patient: the language on their record, copied into the session when they
  sign in (so no page pays a query for it) and changed by the switch.
- Before sign-in (registration, sign-in, password reset, error pages): the language the
  browser was told with the switch (Django's language cookie), else its Accept-Language.
- Staff: always English, whatever the browser says.
- The JSON API: always English (its messages are a contract, not a page).
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from clinic.users.actor import Actor
from patients.models import Language, Patient
from patients.services import patient_set_language

SESSION_KEY = "patient_language"
DEFAULT_LANGUAGE = Language.ENGLISH.value


def language_of_request(request: HttpRequest) -> str:
    if request.path_info.startswith("/api/"):
        return DEFAULT_LANGUAGE
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # Only a patient's session holds a language; a staff session never does.
        return request.session.get(SESSION_KEY, DEFAULT_LANGUAGE)
    return translation.get_language_from_request(request)


class PatientLanguageMiddleware:
    """Activates the request's language (see the module's docstring) for the view and the
    templates; the patient's choice also goes into the language cookie, so that the sign-in
    page after signing out speaks it too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = language_of_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        if request.user.is_authenticated:
            if SESSION_KEY in request.session:
                _remember_in_cookie(request, response, language)
        else:
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response


def _remember_in_cookie(request: HttpRequest, response: HttpResponse, language: str) -> None:
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


@receiver(user_logged_in, dispatch_uid="portal.language.on_sign_in")
def _keep_patient_language_in_session(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    language = Patient.objects.filter(user=user).values_list("language", flat=True).first()
    if language is None:
        request.session.pop(SESSION_KEY, None)
    else:
        request.session[SESSION_KEY] = language


def _next_page(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else reverse("home")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The switch in the page header: English or Español. A signed-in patient's record keeps
    the choice (their emails and text messages follow it); anyone else's browser does."""
    response = HttpResponseRedirect(_next_page(request))
    language = request.POST.get("language", "")
    if language not in Language.values:
        return response
    user = request.user
    if user.is_authenticated:
        patient = Patient.objects.filter(user=user).first()
        if patient is None:
            return response  # staff pages stay English
        patient_set_language(by=Actor.portal(user), patient=patient, language=language)
        request.session[SESSION_KEY] = language
    _remember_in_cookie(request, response, language)
    return response
