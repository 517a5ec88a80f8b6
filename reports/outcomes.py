"""The outcomes registry: whether the clinic's procedures work, per procedure type, provider,
payer and region, at 2 weeks, 3 months and 6 months.

Every figure is aggregated in PostgreSQL, all four groupings at once (GROUPING SETS), in
three queries whatever the size of the clinic. Thresholds come from
/work/shared/domain/instruments.md: responders at >=30% relief (the NRS's clinically
important change, Farrar 2001) and >=50% (therapeutic success, the facet and SI LCDs); PGIC
"much" or "very much improved" is the important improvement (Farrar 2001); the ODI's
minimal clinically important difference is 10 points or 30% (Ostelo 2008), the NDI's 5 points
(Vernon 1991).
"""

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone

from notifications.models import NotificationPolicy
from patients.instruments import PGIC_ANSWERS

from .outcome_sql import (
    DIMENSIONS,
    FOLLOW_UP_POINTS,
    NEAREST_SQL,
    POINTS_SQL,
    TABLES,
    selection,
)
from .registry import (
    Audience,
    Cell,
    Chart,
    Column,
    Dataset,
    Filters,
    Report,
    ReportResult,
    Table,
    register,
)
from .sql import as_float, fetch, percent, rounded

OUTCOME_PATIENTS_PATH = "/reports/outcomes/patients/"
RESPONDER_THRESHOLDS = (30, 50)
PGIC_IMPORTANT = (1, 2)  # very much and much improved
ODI_MCID_POINTS, ODI_MCID_SHARE = Decimal(10), Decimal("0.3")
NDI_MCID_POINTS = Decimal(5)
BASELINE_DAYS = 90  # how far before a procedure a disability score still counts as baseline
POINT_LABELS = {point.key: point.label for point in FOLLOW_UP_POINTS}
INSTRUMENT_LABELS = {"odi": "ODI", "ndi": "NDI"}

DIMENSION_COLUMNS = ("procedure_type", "provider", "payer", "region")
DIMENSION_SQL = (
    "CASE "
    + " ".join(f"WHEN GROUPING(s.{d}) = 0 THEN '{d}'" for d in DIMENSION_COLUMNS[:-1])
    + f" ELSE '{DIMENSION_COLUMNS[-1]}' END AS dimension, "
    + "coalesce({}) AS group_id, ".format(", ".join(f"s.{d}" for d in DIMENSION_COLUMNS))
    + "coalesce({}) AS group_label".format(", ".join(f"s.{d}_label" for d in DIMENSION_COLUMNS))
)


def grouped_by(*extra: str) -> str:
    """GROUP BY the four groupings, each with the extra columns (the follow-up point)."""
    tail = "".join(f", {column}" for column in extra)
    sets = ", ".join(f"(s.{d}, s.{d}_label{tail})" for d in DIMENSION_COLUMNS)
    return f"GROUP BY GROUPING SETS ({sets})"


PGIC_COUNTS = ", ".join(f"count(*) FILTER (WHERE n.pgic = {a}) AS pgic_{a}" for a in PGIC_ANSWERS)
RESPONDER_COUNTS = ", ".join(
    f"count(*) FILTER (WHERE n.percent_relief >= {t}) AS responders_{t}"
    for t in RESPONDER_THRESHOLDS
)

RESPONDERS_SQL = f"""
WITH selected AS ({{selected}}), nearest AS ({NEAREST_SQL})
SELECT {DIMENSION_SQL}, pt.point, min(pt.ord) AS ord,
       count(*) FILTER (WHERE s.performed_at + pt.day * interval '1 day' <= %(now)s) AS due,
       count(n.record_id) AS followed_up,
       count(n.percent_relief) AS with_relief,
       {RESPONDER_COUNTS},
       percentile_cont(0.5) WITHIN GROUP (ORDER BY n.percent_relief) AS median_relief,
       count(n.pgic) AS pgic_answers, {PGIC_COUNTS}
FROM selected s
CROSS JOIN {POINTS_SQL} AS pt(point, day, first_day, last_day, ord)
LEFT JOIN nearest n ON n.record_id = s.id AND n.point = pt.point
WHERE s.performed_at + pt.day * interval '1 day' <= %(now)s OR n.record_id IS NOT NULL
{grouped_by("pt.point")}
ORDER BY dimension, group_label, group_id, ord
"""  # noqa: S608 (module constants and table names only; values are parameters)

PROCEDURES_SQL = f"""
WITH selected AS ({{selected}}),
surveys AS (
  SELECT m.subject_id AS record_id, count(*) AS sent,
         count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM {{outcome}} o
           WHERE o.record_id = m.subject_id AND o.source = 'survey'
             AND o.measured_at >= m.sent_at
             AND o.measured_at < m.sent_at + %(survey_days)s * interval '1 day'
         )) AS answered
  FROM {{message}} m
  JOIN selected s ON s.id = m.subject_id
  WHERE m.subject_type = 'procedure_record' AND m.kind = 'outcome_survey' AND m.state = 'sent'
  GROUP BY m.subject_id
)
SELECT {DIMENSION_SQL}, count(*) AS procedures,
       count(*) FILTER (WHERE s.complication) AS complications,
       coalesce(sum(v.sent), 0) AS surveys_sent, coalesce(sum(v.answered), 0) AS surveys_answered
FROM selected s
LEFT JOIN surveys v ON v.record_id = s.id
{grouped_by()}
ORDER BY dimension, group_label, group_id
"""  # noqa: S608 (module constants and table names only; values are parameters)

DISABILITY_SQL = f"""
WITH selected AS ({{selected}}),
pairs AS (
  SELECT s.*, i.instrument, pt.point, pt.ord, b.total AS baseline, f.total AS follow_up
  FROM selected s
  CROSS JOIN (VALUES ('odi'), ('ndi')) AS i(instrument)
  CROSS JOIN {POINTS_SQL} AS pt(point, day, first_day, last_day, ord)
  JOIN LATERAL (
    SELECT a.total FROM {{assessment}} a
    WHERE a.patient_id = s.patient_id AND a.instrument = i.instrument
      AND a.taken_at <= s.performed_at
      AND a.taken_at > s.performed_at - %(baseline_days)s * interval '1 day'
    ORDER BY a.taken_at DESC LIMIT 1
  ) b ON true
  JOIN LATERAL (
    SELECT a.total FROM {{assessment}} a
    WHERE a.patient_id = s.patient_id AND a.instrument = i.instrument
      AND a.taken_at >= s.performed_at + pt.first_day * interval '1 day'
      AND a.taken_at < s.performed_at + (pt.last_day + 1) * interval '1 day'
    ORDER BY abs(extract(epoch FROM a.taken_at - s.performed_at) - pt.day * 86400)
    LIMIT 1
  ) f ON true
)
SELECT {DIMENSION_SQL}, s.instrument, s.point, min(s.ord) AS ord, count(*) AS pairs,
       avg(s.baseline) AS mean_baseline, avg(s.baseline - s.follow_up) AS mean_improvement,
       count(*) FILTER (WHERE
         (s.instrument = 'odi' AND (s.baseline - s.follow_up >= %(odi_points)s
                                    OR s.baseline - s.follow_up >= %(odi_share)s * s.baseline))
         OR (s.instrument = 'ndi' AND s.baseline - s.follow_up >= %(ndi_points)s)
       ) AS reached_mcid
FROM pairs s
{grouped_by("s.instrument", "s.point")}
ORDER BY dimension, group_label, group_id, s.instrument, ord
"""  # noqa: S608 (module constants and table names only; values are parameters)


def patients_link(filters: Filters, row: dict[str, Any], **extra: str) -> str:
    """The drill-down page listing the patients behind one row's figures: the filters and
    the group's ids, never anything about a patient."""
    query: dict[str, str] = {
        "start": filters.start.isoformat(),
        "end": filters.end.isoformat(),
        "dimension": row["dimension"],
        "group": row["group_id"],
    }
    for key in ("location_id", "provider_id", "procedure_type_id"):
        value = getattr(filters, key)
        if value is not None:
            query[key.removesuffix("_id")] = str(value)
    return f"{OUTCOME_PATIENTS_PATH}?{urlencode(query | extra)}"


def grouping_cells(row: dict[str, Any]) -> dict[str, Cell]:
    return {"dimension": DIMENSIONS[row["dimension"]], "group": row["group_label"]}


GROUPING_COLUMNS = [Column("dimension", "Grouped by"), Column("group", "Group")]


def responders_table(filters: Filters, rows: list[dict[str, Any]]) -> Table:
    columns = [
        *GROUPING_COLUMNS,
        Column("point", "Follow-up"),
        Column("due", "Procedures due"),
        Column("followed_up", "Followed up"),
        Column("responders_30", "Responders ≥30%"),
        Column("responders_30_percent", "Responders ≥30% (%)"),
        Column("responders_50", "Responders ≥50%"),
        Column("responders_50_percent", "Responders ≥50% (%)"),
        Column("median_relief", "Median relief (%)"),
        *[Column(f"pgic_{a}", f"PGIC: {label}") for a, (_, label) in PGIC_ANSWERS.items()],
        Column("pgic_improved_percent", "PGIC much or very much improved (%)"),
        Column("patients_url", "Patients"),
    ]
    table_rows = []
    for row in rows:
        improved = sum(row[f"pgic_{a}"] for a in PGIC_IMPORTANT)
        cells: dict[str, Cell] = {
            **grouping_cells(row),
            "point": POINT_LABELS[row["point"]],
            "due": row["due"],
            "followed_up": row["followed_up"],
            "median_relief": rounded(row["median_relief"]),
            "pgic_improved_percent": percent(improved, row["pgic_answers"]),
            "patients_url": patients_link(filters, row, point=row["point"]),
        }
        for threshold in RESPONDER_THRESHOLDS:
            count = row[f"responders_{threshold}"]
            cells[f"responders_{threshold}"] = count
            cells[f"responders_{threshold}_percent"] = percent(count, row["with_relief"])
        cells |= {f"pgic_{a}": row[f"pgic_{a}"] for a in PGIC_ANSWERS}
        table_rows.append(cells)
    return Table("responders", "Responders, relief and PGIC at each follow-up", columns, table_rows)


def procedures_table(filters: Filters, rows: list[dict[str, Any]]) -> Table:
    columns = [
        *GROUPING_COLUMNS,
        Column("procedures", "Procedures"),
        Column("complications", "With a complication"),
        Column("complication_percent", "Complications (%)"),
        Column("surveys_sent", "Surveys sent"),
        Column("surveys_answered", "Surveys answered"),
        Column("survey_response_percent", "Survey response (%)"),
        Column("patients_url", "Patients"),
    ]
    table_rows: list[dict[str, Cell]] = [
        {
            **grouping_cells(row),
            "procedures": row["procedures"],
            "complications": row["complications"],
            "complication_percent": percent(row["complications"], row["procedures"]),
            "surveys_sent": int(row["surveys_sent"]),
            "surveys_answered": int(row["surveys_answered"]),
            "survey_response_percent": percent(
                int(row["surveys_answered"]), int(row["surveys_sent"])
            ),
            "patients_url": patients_link(filters, row),
        }
        for row in rows
    ]
    return Table("procedures", "Procedures, complications and survey response", columns, table_rows)


def disability_table(filters: Filters, rows: list[dict[str, Any]]) -> Table:
    columns = [
        *GROUPING_COLUMNS,
        Column("instrument", "Instrument"),
        Column("point", "Follow-up"),
        Column("pairs", "Patients with baseline and follow-up"),
        Column("mean_baseline", "Mean baseline"),
        Column("mean_improvement", "Mean improvement (points)"),
        Column("reached_mcid", "Reached the MCID"),
        Column("reached_mcid_percent", "Reached the MCID (%)"),
        Column("patients_url", "Patients"),
    ]
    table_rows: list[dict[str, Cell]] = [
        {
            **grouping_cells(row),
            "instrument": INSTRUMENT_LABELS[row["instrument"]],
            "point": POINT_LABELS[row["point"]],
            "pairs": row["pairs"],
            "mean_baseline": rounded(row["mean_baseline"]),
            "mean_improvement": rounded(row["mean_improvement"]),
            "reached_mcid": row["reached_mcid"],
            "reached_mcid_percent": percent(row["reached_mcid"], row["pairs"]),
            "patients_url": patients_link(filters, row, point=row["point"]),
        }
        for row in rows
    ]
    return Table(
        "disability",
        "Disability (ODI, NDI): change against the minimal clinically important difference",
        columns,
        table_rows,
    )


def responder_chart(table: Table) -> Chart:
    """≥50% responders per procedure type, one dataset per follow-up point."""
    rows = [row for row in table.rows if row["dimension"] == DIMENSIONS["procedure_type"]]
    labels = list(dict.fromkeys(str(row["group"]) for row in rows))
    by_cell = {(row["group"], row["point"]): row["responders_50_percent"] for row in rows}
    datasets = [
        Dataset(
            point.label,
            [_as_decimal_float(by_cell.get((label, point.label))) for label in labels],
        )
        for point in FOLLOW_UP_POINTS
    ]
    return Chart(
        "responders_50",
        "Responders (≥50% relief) by procedure type",
        "bar",
        labels,
        datasets,
        y_label="% of procedures followed up",
    )


def pgic_chart(table: Table) -> Chart:
    """The PGIC answers of every procedure type together, at each follow-up point."""
    rows = [row for row in table.rows if row["dimension"] == DIMENSIONS["procedure_type"]]
    labels = [label for _, label in PGIC_ANSWERS.values()]
    datasets = [
        Dataset(
            point.label,
            [
                float(sum(_as_int(r[f"pgic_{a}"]) for r in rows if r["point"] == point.label))
                for a in PGIC_ANSWERS
            ],
        )
        for point in FOLLOW_UP_POINTS
    ]
    return Chart("pgic", "PGIC answers", "bar", labels, datasets, y_label="Answers")


def _as_decimal_float(value: Cell) -> float | None:
    return as_float(value) if isinstance(value, Decimal) else None


def _as_int(value: Cell) -> int:
    return int(value) if isinstance(value, int) else 0


def survey_days() -> int:
    """How long a survey link works: an answer after that is not a response to it."""
    return NotificationPolicy.current().survey_link_days


def outcomes_report(filters: Filters) -> ReportResult:
    selected, params = selection(filters)
    params |= {
        "now": timezone.now(),
        "survey_days": survey_days(),
        "baseline_days": BASELINE_DAYS,
        "odi_points": ODI_MCID_POINTS,
        "odi_share": ODI_MCID_SHARE,
        "ndi_points": NDI_MCID_POINTS,
    }
    responders = responders_table(
        filters, fetch(RESPONDERS_SQL.format(selected=selected, **TABLES), params)
    )
    procedures = procedures_table(
        filters, fetch(PROCEDURES_SQL.format(selected=selected, **TABLES), params)
    )
    disability = disability_table(
        filters, fetch(DISABILITY_SQL.format(selected=selected, **TABLES), params)
    )
    return ReportResult(
        tables=[responders, procedures, disability],
        charts=[responder_chart(responders), pgic_chart(responders)],
        notes=[
            "A follow-up point counts the outcome nearest its day: 2 weeks (days 7-28), "
            "3 months (days 61-120), 6 months (days 151-240).",
            "Relief is percent relief from the pre-procedure NRS; responders reach 30% "
            "(clinically important, Farrar 2001) or 50% (therapeutic success, LCDs).",
            "MCID: ODI 10 points or 30% of baseline (Ostelo 2008); NDI 5 points (Vernon "
            "1991), against the last score of the 90 days before the procedure.",
            "Payer is the patient's payer on file today.",
        ],
    )


OUTCOMES = register(
    Report(
        name="outcomes",
        title="Outcomes registry",
        description=(
            "Responders, median relief, PGIC, ODI/NDI change, survey response and "
            "complications per procedure type, provider, payer and region."
        ),
        audience=Audience.CLINICIANS,
        build=outcomes_report,
    )
)
