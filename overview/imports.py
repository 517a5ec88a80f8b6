"""CSV imports of patients and upcoming appointments: the dry run (the real import in a
transaction that is rolled back), then the real run in Celery, row by row, with its progress
on the ImportJob row. The file is kept in the job's row only until the run ends."""

import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import pghistory
import tablib
from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from import_export.results import Result, RowResult

from clinic.audit.writes import actor_metadata
from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.users.actor import Actor, ActorChannel

from .import_resources import (
    APPOINTMENT_OPTIONAL_COLUMNS,
    APPOINTMENT_REQUIRED_COLUMNS,
    PATIENT_OPTIONAL_COLUMNS,
    PATIENT_REQUIRED_COLUMNS,
    AppointmentResource,
    PatientResource,
    ServiceResource,
)
from .models import ImportJob, ImportKind, ImportState

logger = logging.getLogger(__name__)

RESOURCES: dict[str, type[ServiceResource]] = {
    ImportKind.PATIENTS: PatientResource,
    ImportKind.APPOINTMENTS: AppointmentResource,
}
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ImportKind.PATIENTS: (PATIENT_REQUIRED_COLUMNS, PATIENT_OPTIONAL_COLUMNS),
    ImportKind.APPOINTMENTS: (APPOINTMENT_REQUIRED_COLUMNS, APPOINTMENT_OPTIONAL_COLUMNS),
}
MAX_ROWS = 5000
PROGRESS_EVERY_ROWS = 10
UNCONFIRMED_KEPT = timedelta(days=1)
UNEXPECTED = "The row could not be imported (an unexpected error); nothing of it was written."


# --- Reading the file -------------------------------------------------------------------


def csv_dataset(*, kind: str, text: str) -> tablib.Dataset:
    """The file as rows; a missing column, no rows or too many is a 400 on `file`."""
    try:
        dataset = tablib.Dataset().load(text, format="csv")
    except Exception:
        raise ValidationFailed({"file": ["This is not a CSV file with a header row."]}) from None
    required, optional = COLUMNS[kind]
    headers = [header.strip() for header in dataset.headers or []]
    missing = [column for column in required if column not in headers]
    if missing:
        raise ValidationFailed({"file": [f"Missing columns: {', '.join(missing)}."]})
    if not 0 < len(dataset) <= MAX_ROWS:
        raise ValidationFailed({"file": [f"Give between 1 and {MAX_ROWS} rows."]})
    dataset.headers = headers
    for column in optional:
        if column not in headers:
            dataset.append_col([""] * len(dataset), header=column)
    return dataset


# --- What each row came to ----------------------------------------------------------------


def _errors_of(row_result: RowResult) -> dict[str, list[str]]:
    if row_result.import_type == RowResult.IMPORT_TYPE_ERROR:
        return {"row": [UNEXPECTED]}
    error: ValidationError = row_result.validation_error
    if hasattr(error, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}
    return {"row": [str(m) for m in error.messages]}


def _label(kind: str, values: dict[str, Any]) -> str:
    """How the manager recognizes the row in the dry run (kept until the run ends)."""
    if kind == ImportKind.PATIENTS:
        return f"{values.get('legal_first_name', '')} {values.get('legal_last_name', '')}".strip()
    return f"MRN {values.get('mrn', '')} at {values.get('start', '')}"


def _patient_of(instance: Any) -> Any:
    """A created patient is the row's record; a booked visit names its patient."""
    return instance.values.get("patient") or instance


def row_report(kind: str, number: int, row_result: RowResult, *, dry_run: bool) -> dict[str, Any]:
    instance = row_result.instance
    report: dict[str, Any] = {"row": number, "label": _label(kind, row_result.row_values or {})}
    if row_result.import_type == RowResult.IMPORT_TYPE_NEW:
        report["outcome"] = "create" if dry_run else "created"
        if not dry_run:
            report["record"] = str(instance.pk)
            report["patient"] = str(_patient_of(instance).pk)
    elif row_result.import_type == RowResult.IMPORT_TYPE_SKIP:
        report["outcome"] = "matched"
        report["matches"] = instance.matched
    else:
        report["outcome"] = "refused"
        report["errors"] = _errors_of(row_result)
    return report


def _reports(kind: str, result: Result, *, dry_run: bool) -> list[dict[str, Any]]:
    return [
        row_report(kind, number, row_result, dry_run=dry_run)
        for number, row_result in enumerate(result.rows, start=1)
    ]


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(row["outcome"] for row in rows))


# --- The dry run and the real run -----------------------------------------------------------


def _run(
    job_kind: str,
    dataset: tablib.Dataset,
    by: Actor,
    *,
    dry_run: bool,
    on_row: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    resource = RESOURCES[job_kind](by=by, on_row=on_row)
    # A dry run is one transaction rolled back (rows later in the file see the ones before);
    # the real run commits row by row (each service is its own transaction), so its progress
    # shows and a refused row leaves the others in.
    result = resource.import_data(dataset, dry_run=dry_run, use_transactions=dry_run)
    failed = sum(1 for row in result.rows if row.import_type == RowResult.IMPORT_TYPE_ERROR)
    if failed:
        logger.warning("import rows failed unexpectedly: %d", failed)
    return _reports(job_kind, result, dry_run=dry_run)


def import_job_check(*, kind: str, csv_text: str, by: Actor) -> ImportJob:
    """The dry run of an uploaded file: what each row would come to, with nothing written
    (the job row aside, which keeps the file for the real run)."""
    if by.user is None:
        raise Forbidden("An import is started by a signed-in manager.")
    if kind not in RESOURCES:
        raise ValidationFailed({"kind": ["Choose patients or appointments."]})
    dataset = csv_dataset(kind=kind, text=csv_text)
    import_jobs_forget_unconfirmed()
    with pghistory.context(**actor_metadata(by)):
        rows = _run(kind, dataset, by, dry_run=True)
    return ImportJob.objects.create(
        kind=kind,
        state=ImportState.CHECKED,
        created_by=by.user,
        csv_text=csv_text,
        total_rows=len(dataset),
        counts=_counts(rows),
        rows=rows,
    )


def import_jobs_forget_unconfirmed() -> int:
    """Files checked but neither started nor discarded within a day are discarded (run at
    each upload: no file waits long for a manager who walked away)."""
    stale = timezone.now() - UNCONFIRMED_KEPT
    return ImportJob.objects.filter(state=ImportState.CHECKED, created_at__lt=stale).update(
        state=ImportState.DISCARDED, csv_text="", rows=[], finished_at=timezone.now()
    )


def imports_queue() -> str:
    """A setting, so a test can give its worker a private queue."""
    return getattr(settings, "IMPORTS_QUEUE", "default")


@transaction.atomic
def import_job_confirm(*, job: ImportJob, by: Actor) -> ImportJob:
    """Queue the real run of a checked file (once: a second confirm is a 409)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.state != ImportState.CHECKED:
        raise Conflict("This import has already been started or discarded.", code="import_started")
    job.state = ImportState.QUEUED
    job.save(update_fields=["state"])
    job_id = str(job.pk)
    transaction.on_commit(lambda: run_import.apply_async(args=(job_id,), queue=imports_queue()))
    return job


@transaction.atomic
def import_job_discard(*, job: ImportJob, by: Actor) -> ImportJob:
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.state != ImportState.CHECKED:
        raise Conflict("Only an import not yet started can be discarded.", code="import_started")
    job.state, job.csv_text, job.rows = ImportState.DISCARDED, "", []
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "csv_text", "rows", "finished_at"])
    return job


def _claim(job_id: UUID) -> ImportJob | None:
    """The job to run, marked running; None if it is not waiting (already done, or the
    message came twice). A run cut short by a lost worker runs again: its rows written
    before are then matched, not written twice."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state not in (ImportState.QUEUED, ImportState.RUNNING):
            return None
        job.state, job.processed_rows = ImportState.RUNNING, 0
        job.save(update_fields=["state", "processed_rows"])
        return job


def _progress_writer(job: ImportJob) -> Callable[[int], None]:
    def note(done: int) -> None:
        if done % PROGRESS_EVERY_ROWS == 0:
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=min(done, job.total_rows))

    return note


def _finish(job: ImportJob, state: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        row.pop("label", None)  # the names read from the file go with the file
    job.state, job.rows, job.counts, job.csv_text = state, rows, _counts(rows), ""
    job.processed_rows = job.total_rows if state == ImportState.DONE else job.processed_rows
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "rows", "counts", "csv_text", "processed_rows", "finished_at"])


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_import(job_id: str) -> None:
    """Takes the job's id only: the file and the names stay in the database."""
    import_job_run(job_id=UUID(job_id))


def import_job_run(*, job_id: UUID) -> ImportJob | None:
    """The real run, row by row as the manager who confirmed it (the write audit names them)."""
    job = _claim(job_id)
    if job is None:
        return None
    by = Actor.of(job.created_by, ActorChannel.SYSTEM)
    try:
        dataset = csv_dataset(kind=job.kind, text=job.csv_text)
        with pghistory.context(**actor_metadata(by), import_job=str(job.pk)):
            rows = _run(job.kind, dataset, by, dry_run=False, on_row=_progress_writer(job))
    except Exception as error:
        # The error's type only: its message or traceback could quote the file's values.
        logger.error("import job %s failed: %s", job.pk, type(error).__name__)
        job.refresh_from_db()
        _finish(job, ImportState.FAILED, [])
        raise
    _finish(job, ImportState.DONE, rows)
    return job
