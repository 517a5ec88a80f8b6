import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .errors import Unavailable, error_body
from .health import health_report
from .outage import RETRY_AFTER_SECONDS, is_database_outage, outage_log


@never_cache
@require_GET
def healthz(request):
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return render(request, "404.html", status=404)


def database_unavailable(request: HttpRequest, error: BaseException) -> HttpResponse:
    """503 without touching the database: no request context (it would load the user)."""
    outage_log.started(error)
    response: HttpResponse
    if _wants_json(request):
        body = error_body(
            "database_unavailable", "The clinic's database cannot be reached; try again shortly."
        )
        response = JsonResponse(body, status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's log_response skips it: the outage is logged once
    return response


def busy(request: HttpRequest, error: Unavailable) -> HttpResponse:
    """503 for a page or call the database refused for a moment (a lock or statement timeout
    in a booking): nothing was saved, trying again will do."""
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse(error_body(error.code, error.detail), status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(error.retry_after_seconds)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request):
    error = sys.exc_info()[1]
    if error is not None and is_database_outage(error):
        return database_unavailable(request, error)
    if isinstance(error, Unavailable):
        return busy(request, error)
    if _wants_json(request):
        body = error_body("server_error", "Something went wrong; the error has been recorded.")
        return JsonResponse(body, status=500)
    return render(request, "500.html", status=500)
