"""The outcomes registry's drill-down (the patients behind a row's figures: clinicians and
managers) and the research export (managers). Both read patients' rows as models, so the
audit middleware records whom each request showed or exported."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from clinic.users.access import role_required, signed_in_user
from clinic.users.roles import Role

from .models import ResearchExport
from .outcome_forms import OutcomePatientsForm, ResearchExportForm
from .outcome_patients import group_label, outcome_patients
from .outcome_sql import DIMENSIONS, POINTS_BY_KEY
from .registry import Filters
from .research import research_export

RECENT_EXPORTS = 20


@role_required(Role.CLINICIAN, Role.MANAGER)
@require_http_methods(["GET", "HEAD"])
def outcome_patients_page(request: HttpRequest) -> HttpResponse:
    form = OutcomePatientsForm(request.GET)
    if not form.is_valid():
        return render(request, "reports/outcome_patients.html", {"form": form}, status=400)
    data = form.cleaned_data
    point = data["point"] or None
    rows = outcome_patients(
        form.filters(), dimension=data["dimension"], group=data["group"], point=point
    )
    context = {
        "form": form,
        "rows": rows,
        "filters": form.filters(),
        "dimension": DIMENSIONS[data["dimension"]],
        "point": POINTS_BY_KEY[point].label if point else None,
        "group_label": group_label(data["dimension"], rows[0].record) if rows else "",
    }
    return render(request, "reports/outcome_patients.html", context)


@role_required(Role.MANAGER)
@require_http_methods(["GET", "HEAD", "POST"])
def research_export_page(request: HttpRequest) -> HttpResponse:
    form = ResearchExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        filters = Filters(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
        export = research_export(filters=filters, by=signed_in_user(request))
        response = HttpResponse(export.csv, content_type="text/csv; charset=utf-8")
        name = f"outcomes-research-{export.log.at:%Y%m%d-%H%M%S}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    context = {"form": form, "exports": ResearchExport.objects.all()[:RECENT_EXPORTS]}
    status = 400 if form.is_bound else 200
    return render(request, "reports/research_export.html", context, status=status)
