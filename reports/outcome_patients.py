"""The patients behind one row of the outcomes registry: the drill-down clinicians open from
a figure. Loading the procedures and their patients as model rows notes each patient in the
request's audit row (clinic.audit.reads)."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from procedures.models import ProcedureRecord

from .outcome_sql import POINTS_BY_KEY, FollowUp, follow_ups
from .registry import Filters


@dataclass(frozen=True)
class PatientRow:
    record: ProcedureRecord
    follow_up: FollowUp | None


def outcome_patients(
    filters: Filters, *, dimension: str, group: str, point: str | None
) -> list[PatientRow]:
    """The group's procedures, with the follow-up at `point`: those due there or followed up
    (as the registry counts them), or every one of them without a point. Two queries."""
    found = follow_ups(filters, dimension=dimension, group=group)
    records = (
        ProcedureRecord.objects.filter(pk__in=list(found))
        .select_related("patient", "patient__payer", "procedure_type", "performer")
        .order_by("performed_at", "id")
    )
    if point is None:
        return [PatientRow(record, None) for record in records]
    now, day = timezone.now(), timedelta(days=POINTS_BY_KEY[point].day)
    rows = []
    for record in records:
        follow_up = found[record.pk].get(point)
        if follow_up is not None or record.performed_at + day <= now:
            rows.append(PatientRow(record, follow_up))
    return rows


def group_label(dimension: str, record: ProcedureRecord) -> str:
    """What the registry calls the group a procedure of it falls in."""
    if dimension == "procedure_type":
        return record.procedure_type.name
    if dimension == "provider":
        return str(record.performer)
    if dimension == "region":
        return record.procedure_type.region.replace("_", " ").title()
    payer = record.patient.payer
    return payer.name if payer is not None else "No payer on file"
