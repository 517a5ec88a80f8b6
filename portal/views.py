from django.shortcuts import render

from clinic.users.access import role_required
from clinic.users.roles import Role


@role_required(Role.PATIENT)
def portal_home(request):
    """The patient's home. Only ever shows the signed-in patient's own record."""
    patient = getattr(request.user, "patient", None)
    return render(request, "portal/home.html", {"patient": patient})
