"""The manager's audit log: who read or changed whose records, searchable, exportable."""

import csv
import uuid

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.audit.models import AuditEvent
from clinic.audit.selectors import AuditFilter, audit_event_changes, audit_events
from clinic.users.access import role_required
from clinic.users.roles import Role
from patients.models import Patient

from .audit_forms import AuditSearchForm

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 100_000
CSV_COLUMNS = [
    "at", "username", "role", "channel", "action", "method", "route", "path", "status",
    "address", "patients", "request_id",
]  # fmt: skip
PATIENTS_COLUMN = CSV_COLUMNS.index("patients")


def _searched(request: HttpRequest) -> tuple[AuditSearchForm, QuerySet[AuditEvent]]:
    form = AuditSearchForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, AuditEvent.objects.none()
    query = form.audit_filter() if form.is_bound else None
    if form.is_bound and query is None:
        return form, AuditEvent.objects.none()
    return form, audit_events(query or AuditFilter())


def _patients_named(events: list[AuditEvent]) -> dict[uuid.UUID, Patient]:
    ids = {patient_id for event in events for patient_id in event.patients}
    return {patient.pk: patient for patient in Patient.objects.filter(pk__in=ids)}


@role_required(Role.MANAGER)
def audit_log(request: HttpRequest) -> HttpResponse:
    form, events = _searched(request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    named = _patients_named(rows)
    listed = [(event, [named.get(pid) for pid in event.patients]) for event in rows]
    status = 400 if form.is_bound and form.errors else 200
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "listed": listed, "query": query.urlencode()}
    return render(request, "overview/audit_log.html", context, status=status)


@role_required(Role.MANAGER)
def audit_export(request: HttpRequest) -> HttpResponse:
    """The search as CSV (patients by their ids; the log page shows names)."""
    form, events = _searched(request)
    if form.is_bound and form.errors:
        return render(request, "overview/audit_log.html", {"form": form}, status=400)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in events.values_list(*CSV_COLUMNS)[:EXPORT_MAX_ROWS].iterator(chunk_size=2000):
        values = list(row)
        values[PATIENTS_COLUMN] = " ".join(
            str(patient_id) for patient_id in values[PATIENTS_COLUMN]
        )
        writer.writerow(values)
    return response


@role_required(Role.MANAGER)
def audit_event_detail(request: HttpRequest, event_id: uuid.UUID) -> HttpResponse:
    event = AuditEvent.objects.filter(pk=event_id).first()
    if event is None:
        raise Http404("No such audit row.")
    context = {
        "event": event,
        "patients": list(Patient.objects.filter(pk__in=event.patients)),
        "changes": audit_event_changes(event),
    }
    return render(request, "overview/audit_event.html", context)
