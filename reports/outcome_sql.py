"""The SQL the outcomes registry, its drill-down and the research export share: which
procedures a report's filters select, and each procedure's follow-up at each point.

A follow-up point is a window of days after the procedure; the outcome counted for it is the
one measured nearest the point's day inside the window (docs/decisions: the outcomes registry).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from notifications.models import Message
from patients.models import Assessment, Patient, Payer
from procedures.models import ProcedureOutcome, ProcedureRecord, ProcedureType
from sites.models import Location, Provider

from .registry import Filters
from .sql import PROVIDER_LABEL, fetch, scope_params

# The tables the raw SQL reads, by their models' names: {record} etc. in the SQL text.
TABLES = {
    "record": ProcedureRecord._meta.db_table,
    "outcome": ProcedureOutcome._meta.db_table,
    "procedure_type": ProcedureType._meta.db_table,
    "provider": Provider._meta.db_table,
    "patient": Patient._meta.db_table,
    "payer": Payer._meta.db_table,
    "assessment": Assessment._meta.db_table,
    "message": Message._meta.db_table,
    "location": Location._meta.db_table,
}


@dataclass(frozen=True)
class FollowUpPoint:
    key: str
    label: str
    day: int  # the point's day after the procedure
    first_day: int  # the window, inclusive
    last_day: int


FOLLOW_UP_POINTS = (
    FollowUpPoint("2w", "2 weeks", 14, 7, 28),
    FollowUpPoint("3m", "3 months", 91, 61, 120),
    FollowUpPoint("6m", "6 months", 182, 151, 240),
)
POINTS_BY_KEY = {point.key: point for point in FOLLOW_UP_POINTS}

# The groups the registry reports by: the key names the SQL column holding a group's id.
DIMENSIONS = {
    "procedure_type": "Procedure type",
    "provider": "Provider",
    "payer": "Payer",
    "region": "Region",
}
NO_PAYER = "none"  # the group of patients without a payer on file

POINTS_SQL = "(VALUES {})".format(
    ", ".join(
        f"('{p.key}', {p.day}, {p.first_day}, {p.last_day}, {i})"
        for i, p in enumerate(FOLLOW_UP_POINTS)
    )
)

# One row per selected procedure, with the group it falls in along each dimension. Days are
# local to the procedure's location, as in the other reports (reports/sql.py).
SELECTED_SQL = f"""
SELECT r.id, r.patient_id, r.performed_at, r.pre_nrs,
       r.complications <> '' AS complication,
       r.procedure_type_id::text AS procedure_type, t.name AS procedure_type_label,
       r.performer_id::text AS provider, {PROVIDER_LABEL} AS provider_label,
       coalesce(pa.payer_id::text, '{NO_PAYER}') AS payer,
       coalesce(y.name, 'No payer on file') AS payer_label,
       t.region AS region, initcap(replace(t.region, '_', ' ')) AS region_label
FROM {{record}} r
JOIN {{location}} l ON l.id = r.location_id
JOIN {{procedure_type}} t ON t.id = r.procedure_type_id
JOIN {{provider}} p ON p.id = r.performer_id
JOIN {{patient}} pa ON pa.id = r.patient_id
LEFT JOIN {{payer}} y ON y.id = pa.payer_id
WHERE r.performed_at >= %(lo)s AND r.performed_at < %(hi)s
  AND (r.performed_at AT TIME ZONE l.time_zone)::date BETWEEN %(start)s AND %(end)s
  AND (%(location)s::uuid IS NULL OR r.location_id = %(location)s::uuid)
  AND (%(provider)s::uuid IS NULL OR r.performer_id = %(provider)s::uuid)
  AND (%(procedure_type)s::uuid IS NULL OR r.procedure_type_id = %(procedure_type)s::uuid)
"""  # noqa: S608 (module constants and table names only; values are parameters)

# Each selected procedure's outcome nearest each point's day, inside the point's window.
NEAREST_SQL = f"""
SELECT DISTINCT ON (s.id, pt.point) s.id AS record_id, pt.point, pt.ord,
       o.nrs, o.percent_relief, o.pgic
FROM selected s
JOIN {{outcome}} o ON o.record_id = s.id
JOIN {POINTS_SQL} AS pt(point, day, first_day, last_day, ord)
  ON o.measured_at >= s.performed_at + pt.first_day * interval '1 day'
 AND o.measured_at < s.performed_at + (pt.last_day + 1) * interval '1 day'
ORDER BY s.id, pt.point,
         abs(extract(epoch FROM o.measured_at - s.performed_at) - pt.day * 86400), o.measured_at
"""  # noqa: S608 (module constants and table names only; values are parameters)


def selection(filters: Filters) -> tuple[str, dict[str, Any]]:
    """The `selected` CTE body for the filters, and its parameters."""
    return SELECTED_SQL.format(**TABLES), scope_params(filters)


@dataclass(frozen=True)
class FollowUp:
    nrs: int
    percent_relief: Decimal | None
    pgic: int | None


FOLLOW_UPS_SQL = f"""
WITH selected AS ({{selected}}), nearest AS ({NEAREST_SQL})
SELECT s.id, n.point, n.nrs, n.percent_relief, n.pgic
FROM selected s
LEFT JOIN nearest n ON n.record_id = s.id
{{where}}
"""  # noqa: S608 (module constants and table names only; values are parameters)


def follow_ups(
    filters: Filters, *, dimension: str | None = None, group: str = ""
) -> dict[UUID, dict[str, FollowUp]]:
    """The selected procedures (those of one group when `dimension` is given), each with its
    follow-up at each point it has one: one query."""
    selected, params = selection(filters)
    where = ""
    if dimension is not None:
        if dimension not in DIMENSIONS:
            raise ValueError(f"Unknown dimension {dimension!r}.")
        where = f"WHERE s.{dimension} = %(group)s"
        params["group"] = group
    sql = FOLLOW_UPS_SQL.format(selected=selected, where=where, **TABLES)
    found: dict[UUID, dict[str, FollowUp]] = {}
    for row in fetch(sql, params):
        points = found.setdefault(row["id"], {})
        if row["point"] is not None:
            points[row["point"]] = FollowUp(row["nrs"], row["percent_relief"], row["pgic"])
    return found
