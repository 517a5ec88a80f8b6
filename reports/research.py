"""The de-identified research export: one row per procedure with its outcomes, following the
HIPAA Privacy Rule's Safe Harbor method (45 CFR 164.514(b)(2)).

What leaves and why (docs/decisions: outcomes registry and research export):
- no names, addresses, ZIP codes, phones, emails, record or member numbers, URLs, addresses of
  any device, or free text (complications are a yes/no: the note may name people);
- each patient a random study id, new for every export, so two exports cannot be joined;
- every date shifted by the patient's own offset (stable, secret: derived with the server's
  key, never exported), so the days between a patient's procedures and follow-ups stay true;
- ages, not birth dates, and every age over 89 as "90+";
- the state (Safe Harbor allows it), not the ZIP code (see the decision record).
"""

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from clinic.users.models import User
from patients.models import Patient
from procedures.models import ProcedureRecord

from .models import ResearchExport
from .outcome_sql import FOLLOW_UP_POINTS, FollowUp, follow_ups
from .registry import Filters

SHIFT_SALT = "reports.research.date-shift"
MAX_SHIFT_DAYS = 180
OLDEST_EXACT_AGE = 89

COLUMNS = [
    "study_id",
    "age",
    "sex",
    "state",
    "payer_kind",
    "procedure",
    "procedure_family",
    "region",
    "side",
    "levels",
    "steroid",
    "steroid_dose_mg",
    "performed_on_shifted",
    "pre_nrs",
    "post_nrs",
    "complication",
    *[
        f"{field}_{point.key}"
        for point in FOLLOW_UP_POINTS
        for field in ("nrs", "relief_percent", "pgic")
    ],
]


def date_shift(patient_id: UUID) -> timedelta:
    """The patient's own shift: between 1 and MAX_SHIFT_DAYS days either way, the same in
    every export, unknowable without the server's secret key."""
    digest = salted_hmac(SHIFT_SALT, str(patient_id), algorithm="sha256").digest()
    days = int.from_bytes(digest[:4], "big") % (2 * MAX_SHIFT_DAYS) - MAX_SHIFT_DAYS
    return timedelta(days=days if days < 0 else days + 1)


def age_group(born: date, on: date) -> str:
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return "90+" if age > OLDEST_EXACT_AGE else str(age)


def study_ids(patient_ids: set[UUID]) -> dict[UUID, str]:
    """A random study id per patient, new for each export: the patients in a random order,
    numbered, so no id says anything of the patient."""
    order = sorted(patient_ids, key=lambda _: secrets.randbits(64))
    return {patient_id: f"P{number:05d}" for number, patient_id in enumerate(order, 1)}


def _point_cells(found: dict[str, FollowUp]) -> dict[str, object]:
    cells: dict[str, object] = {}
    for point in FOLLOW_UP_POINTS:
        follow_up = found.get(point.key)
        cells[f"nrs_{point.key}"] = follow_up.nrs if follow_up else ""
        relief = follow_up.percent_relief if follow_up else None
        cells[f"relief_percent_{point.key}"] = "" if relief is None else relief
        pgic = follow_up.pgic if follow_up else None
        cells[f"pgic_{point.key}"] = "" if pgic is None else pgic
    return cells


def _row(record: ProcedureRecord, study_id: str, found: dict[str, FollowUp]) -> dict[str, object]:
    patient: Patient = record.patient
    performed = timezone.localtime(record.performed_at).date()
    return {
        "study_id": study_id,
        "age": age_group(patient.date_of_birth, performed),
        "sex": patient.sex,
        "state": patient.state,
        "payer_kind": patient.payer.kind if patient.payer else "",
        "procedure": record.procedure_type.code,
        "procedure_family": record.procedure_type.family,
        "region": record.procedure_type.region,
        "side": record.side,
        "levels": len(record.levels),
        "steroid": record.steroid_id or "",
        "steroid_dose_mg": record.steroid_dose_mg if record.steroid_dose_mg is not None else "",
        "performed_on_shifted": (performed + date_shift(patient.pk)).isoformat(),
        "pre_nrs": record.pre_nrs,
        "post_nrs": record.post_nrs,
        "complication": "yes" if record.complications.strip() else "no",
        **_point_cells(found),
    }


@dataclass(frozen=True)
class Export:
    csv: str
    log: ResearchExport


def research_rows(filters: Filters) -> list[dict[str, object]]:
    """The de-identified rows of the procedures the filters select: two queries."""
    found = follow_ups(filters)
    records = list(
        ProcedureRecord.objects.filter(pk__in=list(found)).select_related(
            "patient", "patient__payer", "procedure_type"
        )
    )
    ids = study_ids({record.patient_id for record in records})
    rows = [_row(record, ids[record.patient_id], found[record.pk]) for record in records]
    rows.sort(key=lambda row: (str(row["study_id"]), str(row["performed_on_shifted"])))
    return rows


@transaction.atomic
def research_export(*, filters: Filters, by: User) -> Export:
    """The export as CSV, and its entry in the export log (who, when, how many rows)."""
    rows = research_rows(filters)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    log = ResearchExport.objects.create(
        user=by,
        username=by.get_username(),
        start=filters.start,
        end=filters.end,
        rows=len(rows),
        patients=len({row["study_id"] for row in rows}),
    )
    return Export(out.getvalue(), log)
