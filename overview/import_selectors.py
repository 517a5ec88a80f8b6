"""What the import pages read: recent jobs, and the patients a job's rows name (loaded as
records, so the read audit notes each one shown)."""

from typing import Any

from django.db.models import QuerySet

from patients.models import Patient

from .models import ImportJob

RECENT_JOBS = 20


def import_jobs_recent() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("created_by").defer("csv_text", "rows")[:RECENT_JOBS]


def _patient_ids(rows: list[dict[str, Any]]) -> set[str]:
    ids = {row["patient"] for row in rows if row.get("patient")}
    ids |= {match["patient"] for row in rows for match in row.get("matches", [])}
    return ids


def import_job_patients(job: ImportJob) -> dict[str, Patient]:
    """The records the rows were matched to or created as, by id."""
    patients = Patient.objects.filter(pk__in=_patient_ids(job.rows)).only(
        "id", "mrn", "legal_first_name", "legal_last_name", "date_of_birth"
    )
    return {str(patient.pk): patient for patient in patients}


def import_job_rows(job: ImportJob) -> dict[str, list[dict[str, Any]]]:
    """The rows by outcome, each with the records it names."""
    patients = import_job_patients(job)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in job.rows:
        shown = dict(row, record_patient=patients.get(row.get("patient", "")))
        shown["matched_patients"] = [
            (patients.get(match["patient"]), match["reasons"]) for match in row.get("matches", [])
        ]
        grouped.setdefault(row["outcome"], []).append(shown)
    return grouped


def import_job_status(job: ImportJob) -> dict[str, Any]:
    """The figures the progress bar polls: no names, no file."""
    return {
        "state": job.state,
        "processed": job.processed_rows,
        "total": job.total_rows,
        "percent": job.percent,
        "counts": job.counts,
    }
