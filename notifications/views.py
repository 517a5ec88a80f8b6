"""Pages: the links in messages (no login; they show only what the link is for) and the
staff pages that list a patient's messages and every failed one, with a retry button."""

from django.conf import settings
from django.contrib import messages as flash
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.access import staff_required
from patients.selectors import may_see_clinical, patient_for

from . import selectors
from .kinds import when_text
from .links import LinkUnusable, link_act, link_find, link_subject
from .models import LinkPurpose, Message
from .services import message_retry

LINK_TEMPLATES = {
    LinkPurpose.CONFIRM: "notifications/links/confirm.html",
    LinkPurpose.CANCEL: "notifications/links/cancel.html",
    LinkPurpose.SURVEY: "notifications/links/survey.html",
    LinkPurpose.DIARY: "notifications/links/diary.html",
    LinkPurpose.WAITLIST_OFFER: "notifications/links/offer.html",
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
    return render(request, "notifications/links/unusable.html", context, status=error.status)


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
    return render(request, "notifications/links/done.html", context)


@staff_required
def failed_messages(request):
    context = {
        "messages_list": selectors.messages_failed()[: selectors.PAGE_SIZE],
        "counts": selectors.message_counts(),
        "show_body": False,
    }
    return render(request, "notifications/staff/failed.html", context)


@staff_required
def patient_messages(request, patient_id):
    patient = patient_for(request.user, patient_id)
    context = {
        "patient": patient,
        "messages_list": selectors.messages_of(patient)[: selectors.PAGE_SIZE],
        "show_body": may_see_clinical(request.user, patient),
    }
    return render(request, "notifications/staff/patient.html", context)


@staff_required
@require_POST
def retry(request, message_id):
    message = get_object_or_404(Message, pk=message_id)
    try:
        message_retry(message=message, by=request.user)
    except Conflict as error:
        flash.error(request, error.detail)
    else:
        flash.success(request, "The message will be sent again now.")
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("notifications:failed")
