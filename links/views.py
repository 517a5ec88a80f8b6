"""The pages behind the links in messages: no login; each shows only what its link is for
and does it through the services of the app the link is about."""

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.core.errors import Conflict, ValidationFailed
from clinic.core.spoken_dates import visit_when
from clinic.core.templatetags.phones import phone as phone_display
from notifications.models import VISIT_PURPOSES, LinkPurpose, LinkToken
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services import patient_change_refusal

from .forms import BirthDateForm
from .services import LinkUnusable, link_act, link_birth_date_check, link_find, link_subject
from .visits import MAX_BIRTH_DATE_TRIES, offered_times, slot_value

LINK_TEMPLATES: dict[str, str] = {
    LinkPurpose.CONFIRM: "links/confirm.html",
    LinkPurpose.CANCEL: "links/cancel.html",
    LinkPurpose.SURVEY: "links/survey.html",
    LinkPurpose.DIARY: "links/diary.html",
    LinkPurpose.WAITLIST_OFFER: "links/offer.html",
    LinkPurpose.RESCHEDULE: "links/reschedule.html",
    LinkPurpose.MANAGE: "links/manage.html",
}
CHECK_VALID_SECONDS = 30 * 60  # a date of birth entered once opens the link for this long
NRS_CHOICES = list(range(11))
PGIC_CHOICES = [
    (1, _("Very much improved")),
    (2, _("Much improved")),
    (3, _("Minimally improved")),
    (4, _("No change")),
    (5, _("Minimally worse")),
    (6, _("Much worse")),
    (7, _("Very much worse")),
]


def _phone(location) -> dict[str, str]:
    """The number to call: E.164 for the tel: link, the national form to read."""
    number = location.phone if location is not None and location.phone else settings.CLINIC_PHONE
    return {"phone": number, "phone_display": phone_display(number)}


def _link_context(link, subject) -> dict:
    location = getattr(subject, "location", None)
    context = {
        "purpose": link.purpose,
        **_phone(location),
        "nrs_choices": NRS_CHOICES,
        "pgic_choices": PGIC_CHOICES,
    }
    if location is not None and hasattr(subject, "start"):
        context |= {"when": visit_when(subject.start, location.zone), "place": location.name}
    return context


def _unusable(request, error: LinkUnusable):
    context = {"reason": error.reason, **_phone(None)}
    return render(request, "links/unusable.html", context, status=error.status)


# --- A visit's links: the date of birth first -----------------------------------------------


def _check_key(link: LinkToken) -> str:
    return f"link-checked:{link.pk}"


def _checked(request: HttpRequest, link: LinkToken) -> bool:
    at = request.session.get(_check_key(link))
    return isinstance(at, int | float) and time.time() - at < CHECK_VALID_SECONDS


def _birth_date_page(
    request: HttpRequest, token: str, link: LinkToken, context: dict
) -> HttpResponse:
    """Ask for the date of birth; a right one opens the link in this browser for a while.
    A wrong one says only that it does not match, and how many tries are left."""
    form = BirthDateForm(request.POST if request.method == "POST" else None)
    context = {key: context[key] for key in ("purpose", "phone", "phone_display")}
    if request.method == "GET" or not form.is_valid():
        status = 200 if request.method == "GET" else 400
        return render(request, "links/birth_date.html", {**context, "form": form}, status=status)
    try:
        matches = link_birth_date_check(token=token, born=form.cleaned_data["date_of_birth"])
        if not matches:
            link = link_find(token)  # locked at the limit
    except LinkUnusable as error:
        return _unusable(request, error)
    if matches:
        request.session[_check_key(link)] = time.time()
        return redirect(request.path)
    left = MAX_BIRTH_DATE_TRIES - link.failed_checks
    form.add_error(
        "date_of_birth",
        ngettext(
            "This date of birth does not match our records. You can try %(left)d more time.",
            "This date of birth does not match our records. You can try %(left)d more times.",
            left,
        )
        % {"left": left},
    )
    return render(request, "links/birth_date.html", {**context, "form": form}, status=400)


def _visit_context(request: HttpRequest, link: LinkToken, appointment: Appointment) -> dict:
    """Whether the visit can still be changed here; past the cut-off, the number to call."""
    booked = appointment.status == AppointmentStatus.BOOKED
    refusal = patient_change_refusal(appointment) if booked else None
    asked = link.purpose == LinkPurpose.RESCHEDULE or request.GET.get("move") == "1"
    movable = appointment.appointment_type.patient_bookable
    moving = booked and refusal is None and movable and asked
    return {
        "booked": booked,
        "movable": movable,
        "confirmed": appointment.confirmed_at is not None,
        "refusal": refusal,
        "times": _times(appointment) if moving else [],
        "moving": moving,
    }


def _times(appointment: Appointment) -> list[dict]:
    zone = appointment.location.zone
    return [
        {"value": slot_value(slot), "label": visit_when(slot.start, zone)}
        for slot in offered_times(appointment)
    ]


def link_language(request: HttpRequest, link: LinkToken) -> str:
    """Nobody signs in here: the page speaks the language of the patient the link was sent
    to, unless this browser chose one with the switch (Django's language cookie)."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen in dict(settings.LANGUAGES):
        return chosen
    return link.patient.language


@never_cache  # the page answers for a token in its URL: no shared or back-button cache
@require_http_methods(["GET", "POST"])
def link_page(request, token: str):
    """One page per link: GET shows what it is for, POST does it (once)."""
    try:
        link = link_find(token)
    except LinkUnusable as error:
        return _unusable(request, error)
    language = link_language(request, link)
    with translation.override(language):
        response = _link_page(request, token, link)
    response["Content-Language"] = language
    return response


def _link_page(request: HttpRequest, token: str, link: LinkToken) -> HttpResponse:
    subject = link_subject(link)
    context = _link_context(link, subject)
    template = LINK_TEMPLATES[link.purpose]
    if link.purpose in VISIT_PURPOSES:
        if not _checked(request, link):
            return _birth_date_page(request, token, link, context)
        context |= _visit_context(request, link, subject)
    if request.method == "GET":
        return render(request, template, context)
    try:
        done = link_act(token=token, purpose=link.purpose, data=request.POST)
    except LinkUnusable as error:
        return _unusable(request, error)
    except ValidationFailed as error:
        context |= {"errors": error.fields, "posted": request.POST}
        if link.purpose in VISIT_PURPOSES:
            context["conflict"] = _not_on_the_page(error.fields)
        return render(request, _again(link, request, subject, context), context, status=400)
    except Conflict as error:
        context |= {"conflict": error.detail}
        return render(request, _again(link, request, subject, context), context, status=409)
    if isinstance(done, Appointment) and link.purpose in VISIT_PURPOSES:
        context |= _done_context(subject, done)
    return render(request, "links/done.html", context)


def _again(link: LinkToken, request: HttpRequest, subject, context: dict) -> str:
    """The page to show again after a refusal: a failed move shows the free times again."""
    moving = request.POST.get("action") == "reschedule" or link.purpose == LinkPurpose.RESCHEDULE
    if moving and context.get("movable") and context.get("booked") and not context.get("refusal"):
        context |= {"moving": True, "times": _times(subject)}
    return LINK_TEMPLATES[link.purpose]


def _not_on_the_page(fields: dict) -> str:
    """Errors of fields the page has no input for (a rule of the booking), as one alert."""
    return " ".join(
        str(message)
        for field, messages in fields.items()
        if field not in ("start", "action")
        for message in messages
    )


def _done_context(before: Appointment, after: Appointment) -> dict:
    if after.pk == before.pk:
        return {"done": "cancelled" if after.status == AppointmentStatus.CANCELLED else "confirmed"}
    return {"done": "moved", "when": visit_when(after.start, after.location.zone)}
