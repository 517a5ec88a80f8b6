"""Pages: the clinician's worklist and the managers' log of who opened which chart."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from clinic.users.access import role_required
from clinic.users.roles import CLINICAL_ROLES, Role
from patients.views import urgent_reason_label

from . import worklist as selectors

FILTER_MAX_LENGTH = 150  # longer than any MRN or username: anything longer matches nothing


@role_required(*CLINICAL_ROLES)
def worklist(request):
    """Today's procedure patients, urgent intakes and follow-up surveys with poor relief."""
    now = timezone.now()
    sections = selectors.clinician_worklist(user=request.user, now=now)
    for intake in sections["intakes"].rows:
        intake.reason_labels = [urgent_reason_label(code) for code in intake.urgent_reasons]
    context = {
        **sections,
        "now": now,
        # The history page is the clinician's (history.views.history_page): link to it only
        # for those who may open it.
        "can_open_history": request.user.has_role(Role.CLINICIAN),
        "poor_relief_percent": sections["poor_relief"].threshold,
        "poor_relief_days": selectors.POOR_RELIEF_DAYS,
    }
    return render(request, "history/worklist.html", context)


def _filter(request, name: str) -> str:
    return request.GET.get(name, "").strip()[:FILTER_MAX_LENGTH]


@role_required(Role.MANAGER)
def access_log(request):
    """Who opened whose history, newest first; by patient MRN or by username."""
    mrn, username = _filter(request, "mrn"), _filter(request, "user")
    accesses = selectors.chart_access_log(mrn=mrn, username=username)
    page = Paginator(accesses, selectors.ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "mrn": mrn, "username": username, "filtered": bool(mrn or username)}
    return render(request, "history/access_log.html", context)
