"""The summary tables (reports/models.py): filling them, and which days a report reads from
them. Decision 0038 says why tables and not materialized views.

Triggers (migration 0003) log every change to the rows the reports read into
`reports_summarychange`. A refresh (Celery beat, reports/tasks.py) takes the changes logged so
far, sums again only the days (and procedure records) they touched, and records when it ran
and the last whole past day it covers. A report reads the summaries for the days up to that
day and the live tables for the days after it, with the same SQL facts (reports/summary_sql.py)
either way, so the figures are the same; past days lag changes by the refresh interval, and
the page shows the time the summaries are as of.
"""

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notifications.models import NotificationPolicy
from scheduling.models import BookingPolicy
from scheduling.selectors import RESCHEDULED

from .models import SummaryState
from .registry import Filters
from .sql import fetch
from .summary_sql import (
    MESSAGE_DAY,
    MESSAGE_DAY_COLUMNS,
    MESSAGE_DAYS,
    OUTCOME_POINT_COLUMNS,
    OUTCOME_POINTS,
    OUTCOME_RECORD_COLUMNS,
    OUTCOME_RECORDS,
    POINT_COLUMNS,
    VISIT_DAY_COLUMNS,
    VISIT_DAYS,
    VISIT_WAIT_COLUMNS,
    VISIT_WAITS,
)

# One refresh at a time, whichever worker runs it: a transaction-level advisory lock (safe
# behind PgBouncer in transaction mode, unlike a session lock).
LOCK_KEY = zlib.crc32(b"reports.summaries")
BASELINE_DAYS = 90  # how far before a procedure a disability score still counts as baseline
REBUILD_CHUNK_DAYS = 31
Progress = Callable[[str], None]

# --- Which days a report reads from the summaries -------------------------------------------

STATE_SQL = """
SELECT s.refreshed_at, s.covered_through, s.change_cutoff_hours, s.survey_link_days,
       COALESCE((SELECT change_cutoff_hours FROM scheduling_bookingpolicy WHERE id = 1), 24)
           AS cutoff_now,
       (SELECT max((now() AT TIME ZONE zone)::date)
        FROM (SELECT time_zone AS zone FROM scheduling_location UNION SELECT %(zone)s) AS z)
           AS today
FROM (SELECT 1) AS one LEFT JOIN reports_summarystate s ON s.id = 1
"""


@dataclass(frozen=True)
class Split:
    """The filters' days cut in two: those read live (from the day after the summaries'
    `covered_through` to today, the latest date at any location), and the others, read from
    the summaries when they can answer (`covered_through` is not None)."""

    filters: Filters
    fresh_as_of: datetime
    covered_through: date | None
    today: date
    cutoff: int  # the booking policy's change cutoff now (hours)

    @property
    def live_days(self) -> tuple[date, date] | None:
        if self.covered_through is None:
            return self.filters.start, self.filters.end
        first = max(self.filters.start, self.covered_through + ONE_DAY)
        last = min(self.filters.end, self.today)
        return (first, last) if first <= last else None

    @property
    def reads_summaries(self) -> bool:
        return self.covered_through is not None and self.live_days != (
            self.filters.start,
            self.filters.end,
        )

    def note(self) -> list[str]:
        if not self.reads_summaries:
            return []
        as_of = timezone.localtime(self.fresh_as_of).strftime("%Y-%m-%d %H:%M %Z")
        live = self.live_days
        if live is None:
            return [f"Figures from the summaries as of {as_of}."]
        return [
            f"Figures from the summaries as of {as_of}, except {live[0]} to {live[1]} "
            "from the live records."
        ]


ONE_DAY = timedelta(days=1)


def split(filters: Filters, *, survey_days: int | None = None) -> Split:
    """One query: the summaries' state. They answer when they were summed with today's
    settings (the change cutoff; the survey link's life for the outcomes, given as
    `survey_days`)."""
    (state,) = fetch(STATE_SQL, {"zone": settings.TIME_ZONE})
    cutoff = int(state["cutoff_now"])
    usable = state["refreshed_at"] is not None and state["change_cutoff_hours"] == cutoff
    if survey_days is not None:
        usable = usable and state["survey_link_days"] == survey_days
    if not usable:
        return Split(filters, timezone.now(), None, state["today"], cutoff)
    part = Split(filters, state["refreshed_at"], state["covered_through"], state["today"], cutoff)
    if not part.reads_summaries:  # wholly live: as of now
        return Split(filters, timezone.now(), None, state["today"], cutoff)
    return part


def split_params(part: Split, *, procedure_filter: bool = True) -> dict[str, Any]:
    """The query parameters of a report that reads both: `s_*` the days that may come from
    the summaries, less the live days `l_*` (with `l_lo`, `l_hi` the UTC instants a day a side
    wider, for the index), the filters, and the settings the facts need."""
    filters = part.filters
    empty = (filters.end + ONE_DAY, filters.end)  # BETWEEN finds nothing
    s_start, s_end = (filters.start, filters.end) if part.reads_summaries else empty
    l_start, l_end = part.live_days or empty
    live = part.live_days is not None
    procedure = filters.procedure_type_id if procedure_filter else None
    return {
        "start": filters.start,
        "end": filters.end,
        "s_start": s_start,
        "s_end": s_end,
        "l_start": l_start,
        "l_end": l_end,
        "l_lo": _instant(l_start - ONE_DAY),
        "l_hi": _instant(l_end + 2 * ONE_DAY) if live else _instant(l_start - ONE_DAY),
        "zone": settings.TIME_ZONE,
        "location": _text(filters.location_id),
        "provider": _text(filters.provider_id),
        "procedure_type": _text(procedure),
        "rescheduled": RESCHEDULED,
        "cutoff": part.cutoff,
    }


def _instant(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _text(value: object | None) -> str | None:
    return str(value) if value is not None else None


# The filters on a summary row `s` and on a live visit `a` (with its order `o`).
SUMMARY_FILTERS = """
  AND (%(location)s::uuid IS NULL OR s.location_id = %(location)s::uuid)
  AND (%(provider)s::uuid IS NULL OR s.provider_id = %(provider)s::uuid)
  AND (%(procedure_type)s::uuid IS NULL OR s.procedure_type_id = %(procedure_type)s::uuid)"""

LIVE_VISITS = """a.start >= %(l_lo)s AND a.start < %(l_hi)s
  AND (a.start AT TIME ZONE l.time_zone)::date BETWEEN %(l_start)s AND %(l_end)s
  AND (%(location)s::uuid IS NULL OR a.location_id = %(location)s::uuid)
  AND (%(provider)s::uuid IS NULL OR a.provider_id = %(provider)s::uuid)
  AND (%(procedure_type)s::uuid IS NULL OR o.procedure_type_id = %(procedure_type)s::uuid)"""


def summaries_then_live(name: str, table: str, columns: str, live: str, filters: str) -> str:
    """The CTE `name`: the stored rows of `table` for the summarized days, then the same
    columns computed by `live` for the days read live."""
    return f"""
{name} AS (
    SELECT {columns} FROM {table} s
    WHERE s.day BETWEEN %(s_start)s AND %(s_end)s AND s.day NOT BETWEEN %(l_start)s AND %(l_end)s {filters}
    UNION ALL
    SELECT {columns} FROM ({live}) AS live
)"""  # noqa: S608 (module constants only; every value is a query parameter)


# The visit-day rows in scope (CTE `visit_days`): summaries, then the live days summed alike.
VISIT_DAY_FACTS = summaries_then_live(
    "visit_days",
    "reports_visitday",
    VISIT_DAY_COLUMNS,
    VISIT_DAYS.format(scope="", where=LIVE_VISITS),
    SUMMARY_FILTERS,
)

# The wait histograms in scope (CTE `visit_waits`): summaries, then the live days alike.
VISIT_WAIT_FACTS = summaries_then_live(
    "visit_waits",
    "reports_visitwaitminute",
    VISIT_WAIT_COLUMNS,
    VISIT_WAITS.format(scope="", where=LIVE_VISITS),
    SUMMARY_FILTERS,
)

LIVE_MESSAGES = f"""m.due_at >= %(l_lo)s AND m.due_at < %(l_hi)s
  AND {MESSAGE_DAY} BETWEEN %(l_start)s AND %(l_end)s
  AND (%(location)s::uuid IS NULL OR m.location_id = %(location)s::uuid)"""

# The message-day rows in scope (CTE `message_days`).
MESSAGE_DAY_FACTS = summaries_then_live(
    "message_days",
    "reports_messageday",
    MESSAGE_DAY_COLUMNS,
    MESSAGE_DAYS.format(scope="", where=LIVE_MESSAGES),
    "AND (%(location)s::uuid IS NULL OR s.location_id = %(location)s::uuid)",
)

LIVE_RECORDS = """r.performed_at >= %(l_lo)s AND r.performed_at < %(l_hi)s
  AND (r.performed_at AT TIME ZONE l.time_zone)::date BETWEEN %(l_start)s AND %(l_end)s
  AND (%(location)s::uuid IS NULL OR r.location_id = %(location)s::uuid)
  AND (%(provider)s::uuid IS NULL OR r.performer_id = %(provider)s::uuid)
  AND (%(procedure_type)s::uuid IS NULL OR r.procedure_type_id = %(procedure_type)s::uuid)"""

FACT_COLUMNS = (
    "r.record_id, r.patient_id, r.performed_at, r.procedure_type_id, r.performer_id, "
    "r.complication, r.surveys_sent, r.surveys_answered, p.point, p.nrs, p.percent_relief, "
    "p.pgic, p.odi_baseline, p.odi_follow_up, p.ndi_baseline, p.ndi_follow_up"
)
SUMMARY_FACT_COLUMNS = FACT_COLUMNS.replace("p.", "r.")

# The procedure records in scope, each once at each follow-up point (CTE `facts`): the
# summaries, then the live days' records (CTE `live_records`) made alike.
OUTCOME_FACTS = f"""
live_records AS ({OUTCOME_RECORDS.format(scope="", where=LIVE_RECORDS)}),
facts AS (
    SELECT {SUMMARY_FACT_COLUMNS}
    FROM reports_outcomepoint r
    WHERE r.day BETWEEN %(s_start)s AND %(s_end)s AND r.day NOT BETWEEN %(l_start)s AND %(l_end)s
      AND (%(location)s::uuid IS NULL OR r.location_id = %(location)s::uuid)
      AND (%(provider)s::uuid IS NULL OR r.performer_id = %(provider)s::uuid)
      AND (%(procedure_type)s::uuid IS NULL OR r.procedure_type_id = %(procedure_type)s::uuid)
    UNION ALL
    SELECT {FACT_COLUMNS}
    FROM live_records r
    JOIN ({OUTCOME_POINTS.format(records="live_records")}) p ON p.record_id = r.record_id
)"""  # noqa: S608 (module constants only; every value is a query parameter)


# --- Filling them --------------------------------------------------------------------------


@dataclass(frozen=True)
class Refreshed:
    ran: bool  # False: another refresh held the lock
    visits_rebuilt: bool = False  # visits and messages summed again from scratch
    outcomes_rebuilt: bool = False
    visit_days: int = 0  # location-days summed again
    message_days: int = 0
    records: int = 0
    refreshed_at: datetime | None = None
    covered_through: date | None = None

    def __str__(self) -> str:
        if not self.ran:
            return "Another refresh is running; skipped."
        rebuilt = {
            (True, True): "Rebuilt everything",
            (True, False): "Rebuilt the visits and messages, refreshed the outcomes",
            (False, True): "Rebuilt the outcomes, refreshed the visits and messages",
            (False, False): "Refreshed",
        }[(self.visits_rebuilt, self.outcomes_rebuilt)]
        return (
            f"{rebuilt}: {self.visit_days} visit days, {self.message_days} message days, "
            f"{self.records} procedure records; figures as of {self.refreshed_at}, "
            f"days up to {self.covered_through}."
        )


@transaction.atomic
def summaries_refresh(
    *, full: bool = False, wait: bool = False, progress: Progress | None = None
) -> Refreshed:
    """Take in the changes logged since the last refresh (all rows, when `full`, when never
    done, or when a setting the figures depend on has changed). One at a time: without `wait`
    a refresh that finds another running returns at once."""
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        else:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
            if not cursor.fetchone()[0]:
                return Refreshed(ran=False)
        cursor.execute("SET LOCAL jit = off")  # as the reports' queries (reports/sql.py)
        cursor.execute("SELECT now()")
        (refreshed_at,) = cursor.fetchone()
    state = SummaryState.objects.filter(pk=1).first()
    cutoff = BookingPolicy.current().change_cutoff_hours
    survey_days = NotificationPolicy.current().survey_link_days
    params = {
        "rescheduled": RESCHEDULED,
        "cutoff": cutoff,
        "zone": settings.TIME_ZONE,
        "survey_days": survey_days,
        "baseline_days": BASELINE_DAYS,
    }
    _take_changes()
    visits_full = full or state is None or state.change_cutoff_hours != cutoff
    outcomes_full = full or state is None or state.survey_link_days != survey_days
    say = progress or (lambda text: None)
    if visits_full:
        visit_days, message_days = _rebuild_visits(params, say)
    else:
        visit_days, message_days = _refresh_visits(params)
    records = _rebuild_outcomes(params, say) if outcomes_full else _refresh_outcomes(params)
    through = _covered_through(refreshed_at)
    SummaryState.objects.update_or_create(
        pk=1,
        defaults={
            "refreshed_at": refreshed_at,
            "covered_through": through,
            "change_cutoff_hours": cutoff,
            "survey_link_days": survey_days,
        },
    )
    return Refreshed(
        ran=True,
        visits_rebuilt=visits_full,
        outcomes_rebuilt=outcomes_full,
        visit_days=visit_days,
        message_days=message_days,
        records=records,
        refreshed_at=refreshed_at,
        covered_through=through,
    )


def _execute(sql: str, params: dict[str, Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# The changes this refresh takes: those committed before it began. A change committed while
# it runs stays in the log for the next one (summing a day twice is harmless).
TAKE_CHANGES = """
DROP TABLE IF EXISTS taken_changes, dirty_visit_days, dirty_message_days, dirty_records;
CREATE TEMP TABLE taken_changes ON COMMIT DROP AS
SELECT topic, location_id, at, subject_id FROM reports_summarychange WHERE false;
WITH taken AS (DELETE FROM reports_summarychange RETURNING topic, location_id, at, subject_id)
INSERT INTO taken_changes SELECT DISTINCT * FROM taken;
-- A change is logged as the UTC day it touched: the local days it overlaps are summed again.
CREATE TEMP TABLE dirty_visit_days ON COMMIT DROP AS
SELECT DISTINCT c.location_id, (edge AT TIME ZONE l.time_zone)::date AS day, l.time_zone
FROM taken_changes c JOIN scheduling_location l ON l.id = c.location_id
CROSS JOIN LATERAL (VALUES (c.at), (c.at + interval '1 day' - interval '1 microsecond')) AS e(edge)
WHERE c.topic = 'visit';
CREATE TEMP TABLE dirty_message_days ON COMMIT DROP AS
SELECT DISTINCT c.location_id,
       (edge AT TIME ZONE COALESCE(l.time_zone, %(zone)s))::date AS day,
       COALESCE(l.time_zone, %(zone)s) AS time_zone
FROM taken_changes c LEFT JOIN scheduling_location l ON l.id = c.location_id
CROSS JOIN LATERAL (VALUES (c.at), (c.at + interval '1 day' - interval '1 microsecond')) AS e(edge)
WHERE c.topic = 'message';
CREATE TEMP TABLE dirty_records ON COMMIT DROP AS
SELECT subject_id AS record_id FROM taken_changes WHERE topic = 'record'
UNION
SELECT r.id FROM procedures_procedurerecord r
WHERE r.patient_id IN (SELECT subject_id FROM taken_changes WHERE topic = 'patient');
"""


def _take_changes() -> None:
    _execute(TAKE_CHANGES, {"zone": settings.TIME_ZONE})


# A dirty day's rows, as exact UTC bounds of the local day (`d` a row of a dirty-days table).
DAY_BOUNDS = (
    "{column} >= d.day::timestamp AT TIME ZONE d.time_zone "
    "AND {column} < (d.day + 1)::timestamp AT TIME ZONE d.time_zone"
)
DIRTY_VISITS = "JOIN dirty_visit_days d ON d.location_id = a.location_id AND " + DAY_BOUNDS.format(
    column="a.start"
)
DIRTY_MESSAGES = (
    "JOIN dirty_message_days d ON d.location_id IS NOT DISTINCT FROM m.location_id AND "
    + DAY_BOUNDS.format(column="m.due_at")
)


def _refresh_visits(params: dict[str, Any]) -> tuple[int, int]:
    _execute(
        "DELETE FROM reports_visitday s USING dirty_visit_days d "
        "WHERE s.location_id = d.location_id AND s.day = d.day"
    )
    _execute(
        "DELETE FROM reports_visitwaitminute s USING dirty_visit_days d "
        "WHERE s.location_id = d.location_id AND s.day = d.day"
    )
    _execute(
        "DELETE FROM reports_messageday s USING dirty_message_days d "
        "WHERE s.location_id IS NOT DISTINCT FROM d.location_id AND s.day = d.day"
    )
    _fill_visits(DIRTY_VISITS, "true", params)
    _fill_messages(DIRTY_MESSAGES, "true", params)
    return _count("dirty_visit_days"), _count("dirty_message_days")


def _fill_visits(scope: str, where: str, params: dict[str, Any]) -> int:
    rows = _execute(
        f"INSERT INTO reports_visitday ({VISIT_DAY_COLUMNS}) "
        + VISIT_DAYS.format(scope=scope, where=where),
        params,
    )
    _execute(
        f"INSERT INTO reports_visitwaitminute ({VISIT_WAIT_COLUMNS}) "
        + VISIT_WAITS.format(scope=scope, where=where),
        params,
    )
    return rows


def _fill_messages(scope: str, where: str, params: dict[str, Any]) -> int:
    return _execute(
        f"INSERT INTO reports_messageday ({MESSAGE_DAY_COLUMNS}) "
        + MESSAGE_DAYS.format(scope=scope, where=where),
        params,
    )


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (this module's temp tables)
        return int(cursor.fetchone()[0])


CHUNK_VISITS = """a.start >= %(lo)s AND a.start < %(hi)s
  AND (a.start AT TIME ZONE l.time_zone)::date >= %(first)s
  AND (a.start AT TIME ZONE l.time_zone)::date < %(next)s"""
CHUNK_MESSAGES = f"""m.due_at >= %(lo)s AND m.due_at < %(hi)s
  AND {MESSAGE_DAY} >= %(first)s AND {MESSAGE_DAY} < %(next)s"""


def _rebuild_visits(params: dict[str, Any], say: Progress) -> tuple[int, int]:
    """Everything again, a month at a time (by local day), saying how far it got."""
    _execute("TRUNCATE reports_visitday, reports_visitwaitminute, reports_messageday")
    visit_days = message_days = 0
    for first, following in _chunks("SELECT min(start), max(start) FROM scheduling_appointment"):
        bounds = _chunk_params(first, following)
        visit_days += _fill_visits("", CHUNK_VISITS, params | bounds)
        say(f"visits {first} to {following - ONE_DAY}: {visit_days:,} rows")
    for first, following in _chunks("SELECT min(due_at), max(due_at) FROM notifications_message"):
        bounds = _chunk_params(first, following)
        message_days += _fill_messages("", CHUNK_MESSAGES, params | bounds)
        say(f"messages {first} to {following - ONE_DAY}: {message_days:,} rows")
    return _days_in("reports_visitday"), _days_in("reports_messageday")


def _days_in(table: str) -> int:
    """How many location-days a summary table holds."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM (SELECT DISTINCT location_id, day FROM {table}) AS d")  # noqa: S608 (this module's tables)
        return int(cursor.fetchone()[0])


def _chunks(span_sql: str) -> list[tuple[date, date]]:
    with connection.cursor() as cursor:
        cursor.execute(span_sql)
        low, high = cursor.fetchone()
    if low is None:
        return []
    first, last = low.date() - ONE_DAY, high.date() + ONE_DAY  # any zone's local day
    step = timedelta(days=REBUILD_CHUNK_DAYS)
    return [
        (day, min(day + step, last + ONE_DAY))
        for day in (first + n * step for n in range((last - first) // step + 1))
    ]


def _chunk_params(first: date, following: date) -> dict[str, Any]:
    return {
        "first": first,
        "next": following,
        "lo": _instant(first - ONE_DAY),
        "hi": _instant(following + ONE_DAY),
    }


def _refresh_outcomes(params: dict[str, Any]) -> int:
    _execute(
        "DELETE FROM reports_outcomepoint WHERE record_id IN (SELECT record_id FROM dirty_records)"
    )
    _fill_outcomes("JOIN dirty_records d ON d.record_id = r.id", "true", params)
    return _count("dirty_records")


def _fill_outcomes(scope: str, where: str, params: dict[str, Any]) -> int:
    _execute(
        "CREATE TEMP TABLE filled_records ON COMMIT DROP AS "
        + OUTCOME_RECORDS.format(scope=scope, where=where),
        params,
    )
    rows = _count("filled_records")
    record_columns = ", ".join(f"r.{column}" for column in OUTCOME_RECORD_COLUMNS.split(", "))
    point_columns = ", ".join(f"p.{column}" for column in POINT_COLUMNS.split(", "))
    _execute(
        f"INSERT INTO reports_outcomepoint ({OUTCOME_POINT_COLUMNS}) "  # noqa: S608 (constants only)
        f"SELECT {record_columns}, {point_columns} FROM filled_records r "
        f"JOIN ({OUTCOME_POINTS.format(records='filled_records')}) p ON p.record_id = r.record_id",
        params,
    )
    _execute("DROP TABLE filled_records")
    return rows


def _rebuild_outcomes(params: dict[str, Any], say: Progress) -> int:
    _execute("TRUNCATE reports_outcomepoint")
    records = 0
    for first, following in _chunks(
        "SELECT min(performed_at), max(performed_at) FROM procedures_procedurerecord"
    ):
        where = (
            "r.performed_at >= %(lo)s AND r.performed_at < %(hi)s "
            "AND (r.performed_at AT TIME ZONE l.time_zone)::date >= %(first)s "
            "AND (r.performed_at AT TIME ZONE l.time_zone)::date < %(next)s"
        )
        records += _fill_outcomes("", where, params | _chunk_params(first, following))
        say(f"procedure records {first} to {following - ONE_DAY}: {records:,} rows")
    return records


COVERED_THROUGH = """
SELECT min((%(now)s::timestamptz AT TIME ZONE zone)::date) - 1
FROM (SELECT time_zone AS zone FROM scheduling_location UNION SELECT %(zone)s) AS zones
"""


def _covered_through(refreshed_at: datetime) -> date:
    """The last day that was wholly past at every location when the refresh began."""
    with connection.cursor() as cursor:
        cursor.execute(COVERED_THROUGH, {"now": refreshed_at, "zone": settings.TIME_ZONE})
        return cursor.fetchone()[0]
