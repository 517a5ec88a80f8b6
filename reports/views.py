"""The reports' pages: the list of reports a user may read, and one report with its filters,
plots (drawn by static/js/reports.js from a json_script data island) and tables."""

from dataclasses import asdict

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from clinic.audit.reads import note_figures_read
from clinic.core.dbrouter import reading_from_replica
from clinic.users.access import role_required

from .access import REPORT_ROLES, may_read, readable_reports
from .forms import ReportFilterForm
from .presenting import page_rows
from .registry import REPORTS, Report


def report_named(request: HttpRequest, name: str) -> Report:
    """The report, if it exists (404) and the user may read it (403)."""
    report = REPORTS.get(name)
    if report is None:
        raise Http404("No such report.")
    if not may_read(request.user, report):
        raise PermissionDenied("Your role does not give access to this report.")
    return report


@require_safe
@role_required(*REPORT_ROLES)
def report_index(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"reports": readable_reports(request.user)})


@require_safe
@role_required(*REPORT_ROLES)
@reading_from_replica()
def report_page(request: HttpRequest, name: str) -> HttpResponse:
    report = report_named(request, name)
    form = ReportFilterForm(request.GET)
    context: dict = {"report": report, "form": form}
    if not form.is_valid():
        return render(request, "reports/report.html", context, status=400)
    filters = form.filters()
    result = report.build(filters)
    note_figures_read()
    tables = [(table, page_rows(table)) for table in result.tables]
    context |= {
        "form": ReportFilterForm(initial=form.cleaned_data),
        "filters": filters,
        "scope": _scope(form.cleaned_data),
        "result": result,
        "tables": tables,
        "charts": [asdict(chart) for chart in result.charts],
        "empty": not any(table.rows for table in result.tables),
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "reports/report.html", context)


def _scope(data: dict) -> list[str]:
    """The chosen location, provider and procedure, as the page's heading names them."""
    chosen = [data.get("location"), data.get("provider"), data.get("procedure_type")]
    return [str(row) for row in chosen if row is not None]
