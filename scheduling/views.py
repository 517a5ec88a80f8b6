from django.shortcuts import render

from clinic.users.access import role_required
from clinic.users.roles import Role

from .selectors import local_now, locations_for_board


@role_required(Role.FRONT_DESK, Role.CLINICIAN, Role.MANAGER)
def day_board(request):
    """The front desk's home. The scheduling issue fills it with the day's appointments."""
    locations = [
        {"location": location, "now": local_now(location)} for location in locations_for_board()
    ]
    return render(request, "scheduling/day_board.html", {"locations": locations})
