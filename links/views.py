"""The pages behind the links in messages: no login; each shows only what its link is for
and does it through the services of the app the link is about."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.core.errors import Conflict, ValidationFailed
from notifications.kinds import when_text
from notifications.models import LinkPurpose

from .services import LinkUnusable, link_act, link_find, link_subject

LINK_TEMPLATES: dict[str, str] = {
    LinkPurpose.CONFIRM: "links/confirm.html",
    LinkPurpose.CANCEL: "links/cancel.html",
    LinkPurpose.SURVEY: "links/survey.html",
    LinkPurpose.DIARY: "links/diary.html",
    LinkPurpose.WAITLIST_OFFER: "links/offer.html",
}
NRS_CHOICES = list(range(11))
PGIC_CHOICES = [
    (1, "Very much improved"),
    (2, "Much improved"),
    (3, "Minimally improved"),
    (4, "No change"),
    (5, "Minimally worse"),
    (6, "Much worse"),
    (7, "Very much worse"),
]


def _link_context(link, subject) -> dict:
    location = getattr(subject, "location", None)
    context = {
        "purpose": link.purpose,
        "phone": (location.phone if location and location.phone else settings.CLINIC_PHONE),
        "nrs_choices": NRS_CHOICES,
        "pgic_choices": PGIC_CHOICES,
    }
    if location is not None and hasattr(subject, "start"):
        context |= {"when": when_text(subject.start, location.zone), "place": location.name}
    return context


def _unusable(request, error: LinkUnusable):
    context = {"reason": error.reason, "phone": settings.CLINIC_PHONE}
    return render(request, "links/unusable.html", context, status=error.status)


@never_cache  # the page answers for a token in its URL: no shared or back-button cache
@require_http_methods(["GET", "POST"])
def link_page(request, token: str):
    """One page per link: GET shows what it is for, POST does it (once)."""
    try:
        link = link_find(token)
    except LinkUnusable as error:
        return _unusable(request, error)
    subject = link_subject(link)
    context = _link_context(link, subject)
    template = LINK_TEMPLATES[link.purpose]
    if request.method == "GET":
        return render(request, template, context)
    try:
        link_act(token=token, purpose=link.purpose, data=request.POST)
    except LinkUnusable as error:
        return _unusable(request, error)
    except ValidationFailed as error:
        context |= {"errors": error.fields, "posted": request.POST}
        return render(request, template, context, status=400)
    except Conflict as error:
        context |= {"conflict": error.detail}
        return render(request, template, context, status=409)
    return render(request, "links/done.html", context)
