"""The manager's CSV imports: upload and dry run, confirm, the progress, the outcome."""

from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.access import role_required, signed_in_user
from clinic.users.actor import Actor
from clinic.users.roles import Role

from .import_forms import ImportUploadForm
from .import_selectors import import_job_rows, import_job_status, import_jobs_recent
from .imports import COLUMNS, import_job_check, import_job_confirm, import_job_discard
from .models import ImportJob


def _uploads_page(request: HttpRequest, form: ImportUploadForm, status: int = 200) -> HttpResponse:
    context = {"form": form, "jobs": import_jobs_recent(), "columns": COLUMNS}
    return render(request, "overview/imports.html", context, status=status)


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    """GET: the upload form and recent imports. POST: the dry run of the file, then its page."""
    if request.method == "GET":
        return _uploads_page(request, ImportUploadForm())
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _uploads_page(request, form, status=400)
    try:
        job = import_job_check(
            kind=form.cleaned_data["kind"],
            csv_text=form.cleaned_data["file"],
            by=Actor.desk(signed_in_user(request)),
        )
    except ValidationFailed as error:
        for field, messages in error.fields.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
        return _uploads_page(request, form, status=400)
    return redirect("overview:import", job_id=job.pk)


@role_required(Role.MANAGER)
@require_GET
def import_job(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=job_id)
    context = {"job": job, "rows": import_job_rows(job), "status": import_job_status(job)}
    return render(request, "overview/import_job.html", context)


@role_required(Role.MANAGER)
@require_GET
def import_job_progress(request: HttpRequest, job_id: UUID) -> JsonResponse:
    job = get_object_or_404(ImportJob.objects.defer("csv_text", "rows"), pk=job_id)
    return JsonResponse(import_job_status(job))


def _job_action(request: HttpRequest, job_id: UUID, action) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.defer("csv_text"), pk=job_id)
    try:
        action(job=job, by=Actor.desk(signed_in_user(request)))
    except Conflict as error:
        context = {"job": job, "rows": import_job_rows(job), "status": import_job_status(job)}
        context["conflict"] = error.detail
        return render(request, "overview/import_job.html", context, status=409)
    return redirect("overview:import", job_id=job.pk)


@role_required(Role.MANAGER)
@require_POST
def import_job_start(request: HttpRequest, job_id: UUID) -> HttpResponse:
    return _job_action(request, job_id, import_job_confirm)


@role_required(Role.MANAGER)
@require_POST
def import_job_drop(request: HttpRequest, job_id: UUID) -> HttpResponse:
    return _job_action(request, job_id, import_job_discard)
