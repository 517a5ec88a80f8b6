from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.users.access import role_required
from clinic.users.roles import Role

from .selectors import clinic_overview


@role_required(Role.MANAGER)
def manager_home(request: HttpRequest) -> HttpResponse:
    return render(request, "overview/home.html", {"overview": clinic_overview()})
