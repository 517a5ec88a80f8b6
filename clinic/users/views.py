from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .roles import Role

HOME_BY_ROLE = {
    Role.FRONT_DESK: "scheduling:day-board",
    Role.CLINICIAN: "history:worklist",
    Role.MANAGER: "overview:home",
    Role.PATIENT: "portal:home",
}


@login_required
def home(request):
    """Send each role to its own home page."""
    destination = HOME_BY_ROLE.get(request.user.role)
    if destination is None:
        return render(request, "users/no_role.html", status=403)
    return redirect(destination)
