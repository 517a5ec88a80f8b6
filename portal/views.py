from django.shortcuts import render

from clinic.users.access import role_required
from clinic.users.roles import Role
from procedures.selectors import orders_visible_to


def _upcoming_procedures(user) -> list:
    """The patient's own scheduled procedures (the selector scopes them), with only what the
    page shows loaded: the procedure name, the planned date and the preparation."""
    return list(
        orders_visible_to(user)
        .only("id", "planned_date", "procedure_type__name", "procedure_type__preparation")
        .order_by("planned_date", "ordered_at")
    )


@role_required(Role.PATIENT)
def portal_home(request):
    """The patient's home. Only ever shows the signed-in patient's own record."""
    patient = getattr(request.user, "patient", None)
    context = {
        "patient": patient,
        "upcoming_procedures": _upcoming_procedures(request.user) if patient else [],
    }
    return render(request, "portal/home.html", context)
