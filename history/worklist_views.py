"""Pages: the clinician's worklist."""

from django.shortcuts import render
from django.utils import timezone

from clinic.users.access import role_required
from clinic.users.roles import CLINICAL_ROLES, Role
from patients.views import urgent_reason_label

from . import worklist as selectors


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
