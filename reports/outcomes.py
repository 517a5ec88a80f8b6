"""The outcomes registry: whether the clinic's procedures work, per procedure type, provider,
payer and region, at 2 weeks, 3 months and 6 months.

Every figure is aggregated in PostgreSQL, all four groupings at once (GROUPING SETS), in
two queries whatever the size of the clinic. Thresholds come from
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

from .outcome_sql import DIMENSIONS, FOLLOW_UP_POINTS, NO_PAYER, TABLES
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
from .sql import PROVIDER_LABEL, as_float, fetch, histogram_percentile, percent, rounded
from .summaries import BASELINE_DAYS, OUTCOME_FACTS, split, split_params

OUTCOME_PATIENTS_PATH = "/reports/outcomes/patients/"
RESPONDER_THRESHOLDS = (30, 50)
PGIC_IMPORTANT = (1, 2)  # very much and much improved
ODI_MCID_POINTS, ODI_MCID_SHARE = Decimal(10), Decimal("0.3")
NDI_MCID_POINTS = Decimal(5)
POINT_LABELS = {point.key: point.label for point in FOLLOW_UP_POINTS}
INSTRUMENT_LABELS = {"odi": "ODI", "ndi": "NDI"}

# The four groupings: the dimension's name, the column of `selected` it groups by, and the
# group's id and label in the report (`g` a row of the sums; t, p, y its type, provider, payer).
GROUPINGS = (
    ("procedure_type", "procedure_type_id", "g.procedure_type_id::text", "t.name"),
    ("provider", "performer_id", "g.performer_id::text", PROVIDER_LABEL),
    (
        "payer",
        "payer_id",
        f"coalesce(g.payer_id::text, '{NO_PAYER}')",
        "coalesce(y.name, 'No payer on file')",
    ),
    ("region", "region", "g.region", "initcap(replace(g.region, '_', ' '))"),
)

GROUPING_FLAGS = ", ".join(
    f"GROUPING(s.{column}) AS grouped_{dimension}" for dimension, column, _, _ in GROUPINGS
)
GROUPING_KEYS = ", ".join(f"s.{column}" for _, column, _, _ in GROUPINGS)


def _case(pick: int) -> str:
    """The dimension, group id or label of a row of the sums, by which grouping made it."""

    def value(grouping: tuple[str, str, str, str]) -> str:
        return f"'{grouping[0]}'" if pick == 0 else grouping[pick]

    whens = " ".join(f"WHEN g.grouped_{g[0]} = 0 THEN {value(g)}" for g in GROUPINGS[:-1])
    return f"CASE {whens} ELSE {value(GROUPINGS[-1])} END"


def _grouping_sums(name: str, aggregates: str, source: str, *extra: str) -> str:
    """The CTE `name`: the aggregates over `source` (a query of rows with the grouping
    columns) in the four groupings at once (GROUPING SETS, by ids: cheap keys), each also
    grouped by the extra columns."""
    tail = "".join(f", s.{column}" for column in extra)
    sets = ", ".join(f"(s.{column}{tail})" for _, column, _, _ in GROUPINGS)
    return f"""{name} AS (
  SELECT {GROUPING_FLAGS}, {GROUPING_KEYS}{tail}, {aggregates}
  FROM ({source}) AS s
  GROUP BY GROUPING SETS ({sets})
)"""  # noqa: S608 (module constants only)


def _labelled(sums: str) -> str:
    """Each row of the CTE `sums` with its group's dimension, id and label."""
    return f"""SELECT {_case(0)} AS dimension,
       {_case(2)} AS group_id, {_case(3)} AS group_label, g.*
FROM {sums} g
LEFT JOIN {{procedure_type}} t ON t.id = g.procedure_type_id
LEFT JOIN {{provider}} p ON p.id = g.performer_id
LEFT JOIN {{payer}} y ON y.id = g.payer_id""".format(**TABLES)  # noqa: S608 (constants only)


def grouped(aggregates: str, source: str, *extra: str) -> str:
    """The aggregates over `source` in the four groupings, each with the extra columns; then
    each group's dimension, id and label."""
    return f"{_grouping_sums('sums', aggregates, source, *extra)}\n{_labelled('sums')}"


PGIC_COUNTS = ", ".join(f"count(*) FILTER (WHERE s.pgic = {a}) AS pgic_{a}" for a in PGIC_ANSWERS)

# The selected procedures at each follow-up point, with what they are grouped by.
SELECTED_SQL = """
selected AS (
  SELECT r.*, pa.payer_id, t.region
  FROM facts r
  JOIN {procedure_type} t ON t.id = r.procedure_type_id
  JOIN {patient} pa ON pa.id = r.patient_id
)""".format(**TABLES)  # noqa: S608 (module constants and table names only)
# A point's day and order as expressions of its key (a join to the points' VALUES misled the
# planner's row estimates into nested loops over 200,000 rows).
POINT_DAY = "CASE s.point {} END".format(
    " ".join(f"WHEN '{p.key}' THEN {p.day}" for p in FOLLOW_UP_POINTS)
)


def point_order(point: str) -> str:
    """The order of the follow-up point in the column `point`, as an SQL expression."""
    whens = " ".join(f"WHEN '{p.key}' THEN {n}" for n, p in enumerate(FOLLOW_UP_POINTS))
    return f"CASE {point} {whens} END"


POINT_ORD = point_order("s.point")
DUE = f"s.performed_at + {POINT_DAY} * interval '1 day' <= %(now)s"

# Counted per group, point and relief value: the bins of each group's relief histogram. So
# PostgreSQL hashes 200,000 rows into groups instead of sorting them four times over for a
# percentile_cont. Every count adds up across a group's bins, and what depends only on the
# relief or the point (responders, the point's order) is worked out per bin after: fewer
# aggregates over the 200,000 rows. The median is exact from the bins. The procedures' own
# figures ride along in the same pass: every procedure has a row at each point, so the first
# point's sums count each procedure once (the procedures table reads them there).
BIN_COUNT_COLUMNS = (
    "due",
    "followed_up",
    "pgic_answers",
    *(f"pgic_{a}" for a in PGIC_ANSWERS),
    "complications",
    "surveys_sent",
    "surveys_answered",
)
RESPONDER_BIN_SUMS = f"""count(*) AS rows,
       count(*) FILTER (WHERE s.due) AS due,
       count(s.nrs) AS followed_up,
       count(s.pgic) AS pgic_answers, {PGIC_COUNTS},
       count(*) FILTER (WHERE s.complication) AS complications,
       coalesce(sum(s.surveys_sent), 0) AS surveys_sent,
       coalesce(sum(s.surveys_answered), 0) AS surveys_answered"""
# A bin's group: which grouping made it (its GROUPING flags) and the group's ids.
BIN_GROUP = ", ".join(
    [f"b.grouped_{d}" for d, _, _, _ in GROUPINGS] + [f"b.{c}" for _, c, _, _ in GROUPINGS]
)
RELIEF_BINS = "b.relief IS NOT NULL"
RESPONDERS_OF_BINS = ", ".join(
    f"coalesce(sum(b.rows) FILTER (WHERE b.relief >= {t}), 0)::bigint AS responders_{t}"
    for t in RESPONDER_THRESHOLDS
)
RESPONDER_SUMS = f"""
responder_sums AS (
  SELECT {BIN_GROUP}, b.point, {point_order("b.point")} AS ord, sum(b.rows)::bigint AS procedures,
         {", ".join(f"sum(b.{c})::bigint AS {c}" for c in BIN_COUNT_COLUMNS)},
         coalesce(sum(b.rows) FILTER (WHERE {RELIEF_BINS}), 0)::bigint AS with_relief,
         {RESPONDERS_OF_BINS},
         array_agg(b.relief ORDER BY b.relief) FILTER (WHERE {RELIEF_BINS}) AS reliefs,
         array_agg(b.rows ORDER BY b.relief) FILTER (WHERE {RELIEF_BINS}) AS relief_counts
  FROM relief_bins b
  GROUP BY {BIN_GROUP}, b.point
)"""  # noqa: S608 (module constants only)
# Every procedure at each point, with only the columns summed. Relief as float8 (the median's
# type; thresholds of whole percents compare the same on one-decimal values).
RESPONDER_ROWS = f"""
    SELECT s.procedure_type_id, s.performer_id, s.payer_id, s.region, s.point, s.nrs,
           s.percent_relief::float8 AS relief, s.pgic, {DUE} AS due,
           s.complication, s.surveys_sent, s.surveys_answered
    FROM selected s
    OFFSET 0  -- each row's cast and "due" computed once, not again for each set that reads them
"""  # noqa: S608 (constants only)

RESPONDERS_SQL = f"""
WITH {OUTCOME_FACTS}, {SELECTED_SQL},
{_grouping_sums("relief_bins", RESPONDER_BIN_SUMS, RESPONDER_ROWS, "point", "relief")},
{RESPONDER_SUMS}
{_labelled("responder_sums")}
ORDER BY dimension, group_label, group_id, ord
"""


def median_relief(row: dict[str, Any]) -> float | None:
    """The median of a group's relief values (percentile_cont), from its histogram."""
    histogram = list(zip(row["reliefs"] or [], row["relief_counts"] or [], strict=True))
    return histogram_percentile(histogram, 0.5)


DISABILITY_SUMS = """min(s.ord) AS ord, count(*) AS pairs,
       avg(s.baseline) AS mean_baseline, avg(s.baseline - s.follow_up) AS mean_improvement,
       count(*) FILTER (WHERE
         (s.instrument = 'odi' AND (s.baseline - s.follow_up >= %(odi_points)s
                                    OR s.baseline - s.follow_up >= %(odi_share)s * s.baseline))
         OR (s.instrument = 'ndi' AND s.baseline - s.follow_up >= %(ndi_points)s)
       ) AS reached_mcid"""

DISABILITY_SQL = f"""
WITH {OUTCOME_FACTS}, {SELECTED_SQL},
pairs AS (
  SELECT s.procedure_type_id, s.performer_id, s.payer_id, s.region, s.point, {POINT_ORD} AS ord,
         i.instrument, i.baseline, i.follow_up
  FROM selected s
  CROSS JOIN LATERAL (VALUES ('odi', s.odi_baseline, s.odi_follow_up),
                             ('ndi', s.ndi_baseline, s.ndi_follow_up))
      AS i(instrument, baseline, follow_up)
  WHERE i.baseline IS NOT NULL AND i.follow_up IS NOT NULL
    -- The same test on the row itself, which PostgreSQL applies as it reads the summary: the
    -- payer and type joins then see the rows with a pair, not every procedure-point row.
    AND ((s.odi_baseline IS NOT NULL AND s.odi_follow_up IS NOT NULL)
         OR (s.ndi_baseline IS NOT NULL AND s.ndi_follow_up IS NOT NULL))
),
{grouped(DISABILITY_SUMS, "SELECT * FROM pairs", "instrument", "point")}
ORDER BY dimension, group_label, group_id, g.instrument, ord
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
            "median_relief": rounded(median_relief(row)),
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
    days = survey_days()
    part = split(filters, survey_days=days)
    params = split_params(part) | {
        "now": timezone.now(),
        "survey_days": days,
        "baseline_days": BASELINE_DAYS,
        "odi_points": ODI_MCID_POINTS,
        "odi_share": ODI_MCID_SHARE,
        "ndi_points": NDI_MCID_POINTS,
    }
    sums = fetch(RESPONDERS_SQL, params)
    responders = responders_table(
        filters, [row for row in sums if row["due"] or row["followed_up"]]
    )
    procedures = procedures_table(filters, [row for row in sums if row["ord"] == 0])
    disability = disability_table(filters, fetch(DISABILITY_SQL, params))
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
            *part.note(),
        ],
        fresh_as_of=part.fresh_as_of,
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
