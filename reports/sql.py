"""What the reports share: reading rows by SQL (on the replica when one is configured), the
filters as query parameters, the visits in scope, percentiles from histograms, and rounding."""

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connections

from clinic.core.dbrouter import read_alias
from scheduling.selectors import RESCHEDULED

from .registry import Filters

Row = dict[str, Any]


# Sent with each report query, in the same round trip (a statement list runs as one
# transaction, so SET LOCAL holds for the query): PostgreSQL's JIT compiled these queries for
# 150-200 ms, longer than they run, and the default 4 MB of work memory sent a year's sorts
# (the medians) to disk (EXPLAIN ANALYZE in bench/reports.py; decision 0038).
NO_JIT = "SET LOCAL jit = off; SET LOCAL work_mem = '64MB';\n"


def fetch(sql: str, params: Mapping[str, Any]) -> list[Row]:
    """One query; its rows as dicts keyed by column name."""
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(NO_JIT + sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def scope_params(filters: Filters, *, procedure_filter: bool = True) -> dict[str, Any]:
    """The filters as named parameters. Days are local to each location; `lo` and `hi` bound
    the UTC instants a day a side wider, so an index on the time can serve the range."""
    lo = datetime.combine(filters.start - timedelta(days=1), time.min, tzinfo=UTC)
    hi = datetime.combine(filters.end + timedelta(days=2), time.min, tzinfo=UTC)
    procedure = filters.procedure_type_id if procedure_filter else None
    return {
        "start": filters.start,
        "end": filters.end,
        "lo": lo,
        "hi": hi,
        "zone": settings.TIME_ZONE,
        "location": _text(filters.location_id),
        "provider": _text(filters.provider_id),
        "procedure_type": _text(procedure),
        "rescheduled": RESCHEDULED,
    }


def _text(value: object | None) -> str | None:
    return str(value) if value is not None else None


# The visits in scope: by the local day of their start at their location, with the filters;
# a visit moved to another time counts once, at its new time (the old row, cancelled as
# "Rescheduled", is left out).
VISITS = """
visits AS (
    SELECT a.id, a.provider_id, a.location_id, a.appointment_type_id, a.room_id, a.status,
           a.start, a.block_start, a.block_end, a.created_at, a.confirmed_at,
           a.checked_in_at, a.in_room_at, a.completed_at,
           (a.start AT TIME ZONE l.time_zone)::date AS day
    FROM scheduling_appointment a
    JOIN scheduling_location l ON l.id = a.location_id
    LEFT JOIN procedures_procedureorder o ON o.id = a.procedure_order_id
    WHERE a.start >= %(lo)s AND a.start < %(hi)s
      AND (a.start AT TIME ZONE l.time_zone)::date BETWEEN %(start)s AND %(end)s
      AND NOT (a.status = 'cancelled' AND a.cancel_reason = %(rescheduled)s)
      AND (%(location)s::uuid IS NULL OR a.location_id = %(location)s::uuid)
      AND (%(provider)s::uuid IS NULL OR a.provider_id = %(provider)s::uuid)
      AND (%(procedure_type)s::uuid IS NULL OR o.procedure_type_id = %(procedure_type)s::uuid)
)"""

# A provider's name as `Provider.display_name` writes it, for a row `p` of scheduling_provider.
PROVIDER_LABEL = (
    "CASE WHEN p.kind = 'physician' THEN 'Dr. ' ELSE '' END || p.first_name || ' ' || "
    "p.last_name || CASE WHEN p.credentials <> '' THEN ', ' || p.credentials ELSE '' END"
)

ONE_PLACE = Decimal("0.1")


def rounded(value: float | Decimal | None) -> Decimal | None:
    """A figure to one decimal place, halves up (as a person rounds)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def percent(part: int | float | Decimal, whole: int | float | Decimal) -> Decimal | None:
    """part / whole as a percentage to one decimal; None when there is no whole."""
    if not whole:
        return None
    return rounded(Decimal(str(part)) * 100 / Decimal(str(whole)))


def as_float(value: Decimal | None) -> float | None:
    """A figure for a plot's dataset."""
    return float(value) if value is not None else None


# (value, how many rows have it), by value: summed counts, from which a median is still exact.
Histogram = list[tuple[float, int]]


def _nth_value(histogram: Histogram, rank: int) -> float:
    """The value at 0-based `rank` were the counted rows listed by value."""
    seen = 0
    for value, rows in histogram:
        seen += rows
        if rank < seen:
            return value
    raise ValueError("rank beyond the histogram")


def histogram_percentile(histogram: Histogram, fraction: float) -> float | None:
    """percentile_cont over the rows a histogram counts: between the two nearest ranks,
    interpolated, so the same figure PostgreSQL gives over the rows themselves."""
    count = sum(rows for _, rows in histogram)
    if not count:
        return None
    position = fraction * (count - 1)
    below = int(position)
    low = float(_nth_value(histogram, below))
    if position == below:
        return low
    return low + (position - below) * (float(_nth_value(histogram, below + 1)) - low)
