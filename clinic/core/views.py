from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic.users.access import role_required
from clinic.users.roles import Role

from .health import health_report
from .selectors import clinic_overview


@never_cache
@require_GET
def healthz(request):
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@role_required(Role.MANAGER)
def manager_home(request):
    return render(request, "core/manager_home.html", {"overview": clinic_overview()})
