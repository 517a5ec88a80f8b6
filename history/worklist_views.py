"""Pages: the clinician's worklist and "My patients"."""

from django.shortcuts import render
from django.utils import timezone

from clinic.users.access import role_required
from clinic.users.roles import CLINICAL_ROLES, Role
from patients.views import urgent_reason_label

from . import worklist as selectors
from .my_patients import WINDOWS
from .my_patients import my_patients as my_patients_selector


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


@role_required(Role.CLINICIAN)
def my_patients(request):
    """The patients with a visit with me in a window of days (today unless asked), with a
    switch to the whole clinic's list."""
    found = my_patients_selector(user=request.user, window=request.GET.get("window"))
    windows = [
        {"key": key, "label": label, "current": key == found.window}
        for key, (label, _first, _after) in WINDOWS.items()
    ]
    context = {"found": found, "windows": windows, "window_label": WINDOWS[found.window][0]}
    return render(request, "history/my_patients.html", context)
