"""Staff page: intrathecal pump refills due in the next 30 days (or overdue), each with its
due date and expected low-reservoir alarm date in its location's zone, and a Book button
that opens the desk's booking page for the refill visit (or the visit already booked)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clinic.users.access import staff_required

from .refill_selectors import DUE_WITHIN_DAYS, refill_visit_type, refills_due


@staff_required
def pump_refills(request: HttpRequest) -> HttpResponse:
    context = {
        "rows": refills_due(user=request.user, now=timezone.now()),
        "visit_type": refill_visit_type(),
        "within_days": DUE_WITHIN_DAYS,
    }
    return render(request, "scheduling/pump_refills.html", context)
