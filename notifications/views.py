"""Staff pages that list a patient's messages and every failed one, with a retry button."""

from django.contrib import messages as flash
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from clinic.core.errors import Conflict
from clinic.users.access import staff_required
from clinic.users.actor import Actor
from patients.selectors import may_see_clinical, patient_for

from . import selectors
from .models import Message
from .services import message_retry


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
        message_retry(message=message, by=Actor.desk(request.user))
    except Conflict as error:
        flash.error(request, error.detail)
    else:
        flash.success(request, "The message will be sent again now.")
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("notifications:failed")
