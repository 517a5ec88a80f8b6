"""The chart's scheduling section for the desk: the patient's upcoming and past visits, a
Book button and the messages sent to the patient.

The chart page itself lives in patients/, a floor below scheduling and notifications, so it
cannot read them; it loads this section with htmx (and links to it without JavaScript).
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clinic.users.access import staff_required
from notifications.selectors import messages_of
from patients.selectors import patient_for

from .selectors import past_visits, upcoming_visits

PAST_SHOWN = 20
MESSAGES_SHOWN = 20


@staff_required
def chart_visits(request: HttpRequest, patient_id) -> HttpResponse:
    patient = patient_for(request.user, patient_id)
    now = timezone.now()
    past = list(past_visits(patient, now)[: PAST_SHOWN + 1])
    context = {
        "patient": patient,
        "upcoming": list(upcoming_visits(patient, now)),
        "past": past[:PAST_SHOWN],
        "more_past": len(past) > PAST_SHOWN,
        "messages_list": list(messages_of(patient)[:MESSAGES_SHOWN]),
    }
    fragment = request.headers.get("HX-Request") == "true"
    template = "_chart_visits_body.html" if fragment else "chart_visits.html"
    return render(request, f"scheduling/{template}", context)
