"""How the clinic runs: no-shows and late cancellations, utilization, wait times, the
waitlist, and message delivery with the share of visits confirmed. Each report reads its
figures with a fixed number of SQL queries that aggregate in PostgreSQL (reports/sql.py)."""

import functools
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from notifications.models import Channel, MessageKind

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
from .sql import (
    PROVIDER_LABEL,
    Histogram,
    Row,
    fetch,
    histogram_percentile,
    percent,
    rounded,
    scope_params,
)
from .summaries import MESSAGE_DAY_FACTS, VISIT_DAY_FACTS, VISIT_WAIT_FACTS, split, split_params

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
IGNORES_PROCEDURE = "The procedure filter does not apply to this report."


def _dimension_rows(rows: list[Row], dim: str) -> list[Row]:
    return sorted((row for row in rows if row["dim"] == dim), key=lambda row: row["label"])


def _chart_of(
    table: Table, key: str, title: str, series: Iterable[tuple[str, str]], y_label: str
) -> Chart:
    """A bar chart of some of a table's columns, one bar group per row."""
    label_key = table.columns[0].key
    return Chart(
        key=key,
        title=title,
        kind="bar",
        labels=[str(row[label_key]) for row in table.rows],
        datasets=[
            Dataset(label=label, values=[_plotted(row[column]) for row in table.rows])
            for column, label in series
        ],
        y_label=y_label,
    )


def _plotted(value: Cell) -> float | None:
    return float(value) if isinstance(value, int | float | Decimal) else None


# --- No-shows and late cancellations ------------------------------------------------------

LEAD_BANDS = [
    "Same day (under 24 h)",
    "1-7 days",
    "8-14 days",
    "15-30 days",
    "31 days or more",
    "Entered afterwards",
]

LEAD_SUMS = ", ".join(
    f"sum(due_by_lead[{band + 1}]) AS due_{band}, sum(no_shows_by_lead[{band + 1}]) AS missed_{band}, "
    f"sum(late_by_lead[{band + 1}]) AS late_{band}"
    for band in range(len(LEAD_BANDS))
)
LEAD_VALUES = ", ".join(
    f"({band}, s.due_{band}, s.missed_{band}, s.late_{band})" for band in range(len(LEAD_BANDS))
)

NO_SHOW_SQL = f"""
WITH {VISIT_DAY_FACTS},
sums AS (
    -- One pass over the visit days, grouped five ways at once; the lead bands are columns.
    SELECT provider_id, appointment_type_id, location_id,
           extract(isodow FROM day)::int AS weekday,
           GROUPING(provider_id, appointment_type_id, location_id,
                    extract(isodow FROM day)::int) AS grouping,
           sum(due) AS visits, sum(no_shows) AS no_shows, sum(late) AS late, {LEAD_SUMS}
    FROM visit_days
    GROUP BY GROUPING SETS ((), (provider_id), (appointment_type_id), (location_id),
                            (extract(isodow FROM day)::int))
    HAVING sum(due) > 0
)
SELECT CASE s.grouping WHEN 7 THEN 'provider' WHEN 11 THEN 'type' WHEN 13 THEN 'location'
                       WHEN 14 THEN 'weekday' ELSE 'all' END AS dim,
       COALESCE(s.provider_id::text, s.appointment_type_id::text, s.location_id::text,
                s.weekday::text, '') AS key,
       COALESCE({PROVIDER_LABEL}, t.name, l.name, '') AS label,
       s.visits, s.no_shows, s.late
FROM sums s
LEFT JOIN scheduling_provider p ON p.id = s.provider_id
LEFT JOIN scheduling_appointmenttype t ON t.id = s.appointment_type_id
LEFT JOIN scheduling_location l ON l.id = s.location_id
UNION ALL
SELECT 'lead', b.band::text, '', b.visits, b.no_shows, b.late
FROM sums s CROSS JOIN LATERAL (VALUES {LEAD_VALUES}) AS b(band, visits, no_shows, late)
WHERE s.grouping = 15 AND b.visits > 0
"""  # noqa: S608 (this module's constants only; every value is a query parameter)

ATTENDANCE_COLUMNS = [
    Column("visits", "Visits due"),
    Column("no_shows", "No-shows"),
    Column("late", "Late cancellations"),
    Column("no_show_rate", "No-show rate (%)"),
    Column("late_rate", "Late-cancellation rate (%)"),
]


def _attendance(label: str, row: Row) -> dict[str, Cell]:
    return {
        "group": label,
        "visits": row["visits"],
        "no_shows": row["no_shows"],
        "late": row["late"],
        "no_show_rate": percent(row["no_shows"], row["visits"]),
        "late_rate": percent(row["late"], row["visits"]),
    }


def _attendance_table(key: str, title: str, heading: str, rows: list[tuple[str, Row]]) -> Table:
    return Table(
        key=key,
        title=title,
        columns=[Column("group", heading), *ATTENDANCE_COLUMNS],
        rows=[_attendance(label, row) for label, row in rows],
    )


def no_shows(filters: Filters) -> ReportResult:
    part = split(filters)
    rows = fetch(NO_SHOW_SQL, split_params(part))
    overall = [("All visits", row) for row in rows if row["dim"] == "all" and row["visits"]]
    weekdays = sorted((row for row in rows if row["dim"] == "weekday"), key=lambda r: int(r["key"]))
    leads = sorted((row for row in rows if row["dim"] == "lead"), key=lambda r: int(r["key"]))
    tables = [
        _attendance_table("overall", "All visits", "Visits", overall),
        *(
            _attendance_table(
                dim, title, heading, [(r["label"], r) for r in _dimension_rows(rows, dim)]
            )
            for dim, title, heading in (
                ("provider", "By provider", "Provider"),
                ("type", "By kind of visit", "Kind of visit"),
                ("location", "By location", "Location"),
            )
        ),
        _attendance_table(
            "weekday", "By weekday", "Weekday", [(WEEKDAYS[int(r["key"]) - 1], r) for r in weekdays]
        ),
        _attendance_table(
            "lead",
            "By booking lead time",
            "Booked ahead",
            [(LEAD_BANDS[int(r["key"])], r) for r in leads],
        ),
    ]
    rates = (("no_show_rate", "No-show rate"), ("late_rate", "Late-cancellation rate"))
    charts = [
        _chart_of(tables[1], "by-provider", "Rates by provider", rates, "% of visits due"),
        _chart_of(tables[4], "by-weekday", "Rates by weekday", rates, "% of visits due"),
        _chart_of(tables[5], "by-lead", "Rates by booking lead time", rates, "% of visits due"),
    ]
    notes = [
        "Visits due: visits kept, missed, or cancelled late (within the booking policy's "
        "change cutoff, 24 hours unless changed, of their start). Cancellations made earlier, "
        "and moves to another time, are left out. A cancellation entered afterwards, with no "
        "recorded time, counts as early.",
        *part.note(),
    ]
    return ReportResult(tables=tables, charts=charts, notes=notes, fresh_as_of=part.fresh_as_of)


register(
    Report(
        name="no-shows",
        title="No-shows and late cancellations",
        description="No-show and late-cancellation rates by provider, kind of visit, location, "
        "weekday and booking lead time.",
        audience=Audience.MANAGERS,
        build=no_shows,
    )
)


# --- Utilization ---------------------------------------------------------------------------

UTILIZATION_SQL = f"""
WITH {VISIT_DAY_FACTS},
days AS (
    SELECT d::date AS day
    FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
),
sessions AS (
    SELECT w.provider_id, w.location_id, days.day, w.start_time, w.end_time
    FROM scheduling_workinghours w
    JOIN days ON w.weekday = extract(isodow FROM days.day)::int - 1
    WHERE (w.valid_from IS NULL OR w.valid_from <= days.day)
      AND (w.valid_until IS NULL OR w.valid_until >= days.day)
    UNION ALL
    SELECT e.provider_id, e.location_id, e.date, e.start_time, e.end_time
    FROM scheduling_scheduleexception e
    WHERE e.kind = 'extra_session' AND e.date BETWEEN %(start)s AND %(end)s
),
closures AS (
    SELECT e.kind, e.provider_id, e.location_id, e.date, e.start_time, e.end_time
    FROM scheduling_scheduleexception e
    WHERE e.kind IN ('time_off', 'holiday') AND e.date BETWEEN %(start)s AND %(end)s
),
provider_open AS (
    SELECT s.provider_id, s.day, GREATEST(0,
        extract(epoch FROM s.end_time - s.start_time) / 60 - COALESCE((
            SELECT sum(CASE
                WHEN c.start_time IS NULL THEN extract(epoch FROM s.end_time - s.start_time) / 60
                ELSE GREATEST(0, extract(epoch FROM LEAST(c.end_time, s.end_time)
                                                 - GREATEST(c.start_time, s.start_time)) / 60)
            END)
            FROM closures c
            WHERE c.date = s.day AND (
                (c.kind = 'time_off' AND c.provider_id = s.provider_id
                 AND (c.location_id IS NULL OR c.location_id = s.location_id))
                OR (c.kind = 'holiday' AND c.location_id = s.location_id
                    AND (c.provider_id IS NULL OR c.provider_id = s.provider_id))
            )
        ), 0)) AS minutes
    FROM sessions s
    WHERE (%(location)s::uuid IS NULL OR s.location_id = %(location)s::uuid)
      AND (%(provider)s::uuid IS NULL OR s.provider_id = %(provider)s::uuid)
),
room_open AS (
    SELECT r.id AS room_id, days.day, GREATEST(0,
        extract(epoch FROM h.closes - h.opens) / 60 - COALESCE((
            SELECT sum(CASE
                WHEN c.start_time IS NULL THEN extract(epoch FROM h.closes - h.opens) / 60
                ELSE GREATEST(0, extract(epoch FROM LEAST(c.end_time, h.closes)
                                                 - GREATEST(c.start_time, h.opens)) / 60)
            END)
            FROM closures c
            WHERE c.kind = 'holiday' AND c.provider_id IS NULL
              AND c.location_id = r.location_id AND c.date = days.day
        ), 0)) AS minutes
    FROM scheduling_room r
    JOIN scheduling_openinghours h ON h.location_id = r.location_id
    JOIN days ON h.weekday = extract(isodow FROM days.day)::int - 1
    WHERE r.is_active AND %(provider)s::uuid IS NULL
      AND (%(location)s::uuid IS NULL OR r.location_id = %(location)s::uuid)
),
booked AS (
    SELECT provider_id, room_id, day, booked_minutes AS minutes
    FROM visit_days WHERE booked_visits > 0
),
provider_days AS (
    SELECT provider_id, day, minutes AS available, 0 AS booked FROM provider_open
    UNION ALL
    SELECT provider_id, day, 0, minutes FROM booked
),
room_days AS (
    SELECT room_id, day, minutes AS available, 0 AS booked FROM room_open
    UNION ALL
    SELECT room_id, day, 0, minutes FROM booked
    WHERE room_id IS NOT NULL AND %(provider)s::uuid IS NULL
),
per_day AS (
    SELECT 'provider' AS dim, p.id AS key, {PROVIDER_LABEL} AS label, x.day,
           sum(x.available)::float8 AS available, sum(x.booked)::float8 AS booked
    FROM provider_days x JOIN scheduling_provider p ON p.id = x.provider_id
    GROUP BY p.id, x.day
    UNION ALL
    SELECT 'room', r.id, r.name || ' (' || l.name || ')', x.day,
           sum(x.available)::float8, sum(x.booked)::float8
    FROM room_days x JOIN scheduling_room r ON r.id = x.room_id
    JOIN scheduling_location l ON l.id = r.location_id
    GROUP BY r.id, l.name, x.day
)
-- One row per provider or room, its days in arrays: a year is 365 values, not 365 rows.
SELECT dim, label, array_agg(day ORDER BY day) AS days,
       array_agg(available ORDER BY day) AS available, array_agg(booked ORDER BY day) AS booked
FROM per_day GROUP BY dim, key, label
"""  # noqa: S608 (this module's constants only; every value is a query parameter)


def _days(filters: Filters) -> list[date]:
    return [
        filters.start + timedelta(days=n) for n in range((filters.end - filters.start).days + 1)
    ]


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


Minutes = tuple[float, float]  # available, booked


def _utilization(minutes: Minutes) -> Cell:
    return _rate(*minutes)


@functools.lru_cache(maxsize=65536)
def _rate(available: float, booked: float) -> Decimal | None:
    """Booked over available minutes: a year's table by day has a cell per provider and day,
    and most cells repeat a few (available, booked) pairs."""
    return percent(booked, available)


def _pivot(
    key: str,
    title: str,
    periods: list[date],
    entities: dict[str, dict[date, Minutes]],
    heading: str = "Week of",
) -> Table:
    """One row per period (day or week), one column of utilization per provider or room."""
    names = sorted(entities)
    columns = [Column("period", heading)]
    columns += [Column(f"u{index}", f"{name} (%)") for index, name in enumerate(names)]
    sums = [entities[name] for name in names]
    none = (0.0, 0.0)
    rows: list[dict[str, Cell]] = []
    for period in periods:
        row: dict[str, Cell] = {"period": period.isoformat()}
        for index, minutes in enumerate(sums):
            row[f"u{index}"] = _utilization(minutes.get(period, none))
        rows.append(row)
    return Table(key=key, title=title, columns=columns, rows=rows)


def _by_week(
    entities: dict[str, dict[date, Minutes]], week_of: dict[date, date]
) -> dict[str, dict[date, Minutes]]:
    """Each entity's minutes summed by week, its days in order."""
    weekly: dict[str, dict[date, Minutes]] = {}
    for name, days in entities.items():
        sums: dict[date, Minutes] = {}
        for day in sorted(days):
            available, booked = days[day]
            was = sums.get(week_of[day], (0.0, 0.0))
            sums[week_of[day]] = (was[0] + available, was[1] + booked)
        weekly[name] = sums
    return weekly


def _totals(key: str, title: str, heading: str, entities: dict[str, dict[date, Minutes]]) -> Table:
    rows: list[dict[str, Cell]] = []
    for name in sorted(entities):
        days = entities[name]
        available = sum(days[day][0] for day in sorted(days))
        booked = sum(days[day][1] for day in sorted(days))
        rows.append(
            {
                "name": name,
                "available": rounded(available),
                "booked": rounded(booked),
                "utilization": _utilization((available, booked)),
            }
        )
    columns = [
        Column("name", heading),
        Column("available", "Available minutes"),
        Column("booked", "Booked minutes"),
        Column("utilization", "Utilization (%)"),
    ]
    return Table(key=key, title=title, columns=columns, rows=rows)


def _line_chart(key: str, title: str, table: Table) -> Chart:
    return Chart(
        key=key,
        title=title,
        kind="line",
        labels=[str(row["period"]) for row in table.rows],
        datasets=[
            Dataset(
                label=column.label.removesuffix(" (%)"),
                values=[_plotted(row[column.key]) for row in table.rows],
            )
            for column in table.columns[1:]
        ],
        y_label="Utilization (%)",
    )


def utilization(filters: Filters) -> ReportResult:
    part = split(filters)
    rows = fetch(UTILIZATION_SQL, split_params(part, procedure_filter=False))
    by: dict[str, dict[str, dict[date, Minutes]]] = {"provider": {}, "room": {}}
    for row in rows:
        minutes = dict(
            zip(row["days"], zip(row["available"], row["booked"], strict=True), strict=True)
        )
        by[row["dim"]].setdefault(row["label"], {}).update(minutes)
    days = _days(filters)
    week_of = {day: _week_of(day) for day in days}
    weeks = sorted(set(week_of.values()))
    providers, rooms = by["provider"], by["room"]
    tables = [
        _totals("providers", "Per provider", "Provider", providers),
        _totals("rooms", "Per room", "Room", rooms),
        _pivot("providers_week", "Providers by week", weeks, _by_week(providers, week_of)),
        _pivot("rooms_week", "Rooms by week", weeks, _by_week(rooms, week_of)),
        _pivot("providers_day", "Providers by day", days, providers, heading="Day"),
        _pivot("rooms_day", "Rooms by day", days, rooms, heading="Day"),
    ]
    if not rows:
        tables = [Table(t.key, t.title, t.columns, []) for t in tables]
    charts = [
        _line_chart("providers-daily", "Providers' utilization by day", tables[4]),
        _line_chart("rooms-weekly", "Rooms' utilization by week", tables[3]),
    ]
    notes = [
        "Utilization: booked minutes (visits booked, under way, done or missed, with their "
        "buffers) over available minutes (providers: their working hours and extra sessions, "
        "less time off and closures; rooms: the location's opening hours, less closures).",
        "Rooms are shown for all providers: with a provider chosen, the room tables are empty.",
        IGNORES_PROCEDURE,
        *part.note(),
    ]
    return ReportResult(tables=tables, charts=charts, notes=notes, fresh_as_of=part.fresh_as_of)


register(
    Report(
        name="utilization",
        title="Utilization",
        description="Booked minutes over available minutes, per provider and per room, by day "
        "and by week.",
        audience=Audience.MANAGERS,
        build=utilization,
    )
)


# --- Wait times ------------------------------------------------------------------------------

WAIT_SQL = f"""
WITH {VISIT_WAIT_FACTS},
sums AS (
    -- The histograms summed for the four groupings in one pass, by ids; the names are joined
    -- to the few groups after.
    SELECT GROUPING(provider_id, location_id, appointment_type_id) AS level,
           provider_id, location_id, appointment_type_id, stage, minute, sum(visits) AS visits
    FROM visit_waits
    GROUP BY GROUPING SETS ((stage, minute), (provider_id, stage, minute),
                            (location_id, stage, minute), (appointment_type_id, stage, minute))
)
SELECT CASE s.level WHEN 7 THEN 'all' WHEN 3 THEN 'provider' WHEN 5 THEN 'location'
                    ELSE 'type' END AS dim,
       COALESCE(s.provider_id, s.location_id, s.appointment_type_id)::text AS key,
       CASE s.level WHEN 7 THEN 'All visits' WHEN 3 THEN {PROVIDER_LABEL} WHEN 5 THEN l.name
                    ELSE y.name END AS label, s.stage, s.minute, s.visits
FROM sums s
LEFT JOIN scheduling_provider p ON p.id = s.provider_id
LEFT JOIN scheduling_location l ON l.id = s.location_id
LEFT JOIN scheduling_appointmenttype y ON y.id = s.appointment_type_id
ORDER BY 1, 2, s.stage, s.minute
"""  # noqa: S608 (this module's constants only; every value is a query parameter)

WAIT_COLUMNS = [
    Column("visits", "Visits checked in"),
    Column("to_room_median", "Arrived to in room, median wait (to the minute)"),
    Column("to_room_p90", "Arrived to in room, 90th percentile (to the minute)"),
    Column("in_room_median", "In room to done, median wait (to the minute)"),
    Column("total_median", "Arrived to done, median wait (to the minute)"),
    Column("total_p90", "Arrived to done, 90th percentile (to the minute)"),
]

# Each figure: the stage it reads and the fraction (as PostgreSQL's percentile_cont).
WAIT_FIGURES = {
    "to_room_median": ("to_room", 0.5),
    "to_room_p90": ("to_room", 0.9),
    "in_room_median": ("in_room", 0.5),
    "total_median": ("total", 0.5),
    "total_p90": ("total", 0.9),
}


def _wait_groups(rows: list[Row]) -> list[Row]:
    """One row per group (dim, key) with its visits and percentiles, from the summed counts."""
    groups: dict[tuple[str, str | None], dict[str, Histogram]] = {}
    labels: dict[tuple[str, str | None], str] = {}
    for row in rows:
        group = (row["dim"], row["key"])
        labels[group] = row["label"]
        stages = groups.setdefault(group, {})
        stages.setdefault(row["stage"], []).append((row["minute"], int(row["visits"])))
    return [
        {"dim": dim, "key": key, "label": labels[(dim, key)]}
        | {"visits": sum(visits for _, visits in stages.get("arrived", []))}
        | {
            figure: histogram_percentile(stages.get(stage, []), fraction)
            for figure, (stage, fraction) in WAIT_FIGURES.items()
        }
        for (dim, key), stages in groups.items()
    ]


def _wait_table(key: str, title: str, heading: str, rows: list[Row]) -> Table:
    return Table(
        key=key,
        title=title,
        columns=[Column("group", heading), *WAIT_COLUMNS],
        rows=[
            {"group": row["label"], "visits": row["visits"]}
            | {figure: rounded(row[figure]) for figure in WAIT_FIGURES}
            for row in rows
            if row["visits"]
        ],
    )


def wait_times(filters: Filters) -> ReportResult:
    part = split(filters)
    rows = _wait_groups(fetch(WAIT_SQL, split_params(part)))
    tables = [
        _wait_table(dim, title, heading, _dimension_rows(rows, dim))
        for dim, title, heading in (
            ("all", "All visits", "Visits"),
            ("provider", "By provider", "Provider"),
            ("location", "By location", "Location"),
            ("type", "By kind of visit", "Kind of visit"),
        )
    ]
    series = (("to_room_median", "Arrived to in room"), ("in_room_median", "In room to done"))
    charts = [
        _chart_of(tables[1], "by-provider", "Median waits by provider", series, "Minutes"),
        _chart_of(tables[3], "by-type", "Median waits by kind of visit", series, "Minutes"),
    ]
    notes = [
        "From the desk's status stamps: checked in (arrived), in room, completed (done). "
        "Visits never checked in are left out; a visit still under way counts in the waits "
        "it has. Each wait is rounded to the nearest whole minute (halves up) before the "
        "medians and 90th percentiles are taken, so they are exact to the minute.",
        *part.note(),
    ]
    return ReportResult(tables=tables, charts=charts, notes=notes, fresh_as_of=part.fresh_as_of)


register(
    Report(
        name="wait-times",
        title="Wait times",
        description="Minutes from arrival to the room and from the room to done, by provider, "
        "location and kind of visit.",
        audience=Audience.MANAGERS,
        build=wait_times,
    )
)


# --- Waitlist ----------------------------------------------------------------------------------

WAITLIST_SQL = """
WITH entries AS (
    SELECT e.id, e.appointment_type_id, e.status, e.created_at
    FROM scheduling_waitlistentry e
    LEFT JOIN scheduling_location l ON l.id = e.location_id
    WHERE e.created_at >= %(lo)s AND e.created_at < %(hi)s
      AND (e.created_at AT TIME ZONE COALESCE(l.time_zone, %(zone)s))::date
          BETWEEN %(start)s AND %(end)s
      AND (%(location)s::uuid IS NULL OR e.location_id = %(location)s::uuid)
      AND (%(provider)s::uuid IS NULL OR e.provider_id = %(provider)s::uuid)
),
offered AS (
    SELECT o.entry_id, count(*) AS made,
           count(*) FILTER (WHERE o.status = 'accepted') AS accepted,
           count(*) FILTER (WHERE o.status = 'expired') AS expired,
           min(a.created_at) FILTER (WHERE o.status = 'accepted') AS filled_at
    FROM scheduling_waitlistoffer o
    LEFT JOIN scheduling_appointment a ON a.id = o.appointment_id
    WHERE o.entry_id IN (SELECT id FROM entries)
    GROUP BY o.entry_id
),
joined AS (
    SELECT e.*, COALESCE(f.made, 0) AS made, COALESCE(f.accepted, 0) AS accepted,
           COALESCE(f.expired, 0) AS expired,
           extract(epoch FROM f.filled_at - e.created_at) / 3600 AS hours_to_fill
    FROM entries e LEFT JOIN offered f ON f.entry_id = e.id
)
SELECT COALESCE(t.name, 'All kinds of visit') AS label, GROUPING(t.name) AS total_row,
       count(*) AS entries,
       count(*) FILTER (WHERE j.status = 'booked') AS filled,
       count(*) FILTER (WHERE j.status = 'withdrawn') AS withdrawn,
       count(*) FILTER (WHERE j.status IN ('waiting', 'offered')) AS waiting,
       COALESCE(sum(j.made), 0) AS offers, COALESCE(sum(j.accepted), 0) AS accepted,
       COALESCE(sum(j.expired), 0) AS expired,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY j.hours_to_fill) AS hours_to_fill
FROM joined j JOIN scheduling_appointmenttype t ON t.id = j.appointment_type_id
GROUP BY ROLLUP (t.name)
"""

WAITLIST_COLUMNS = [
    Column("label", "Kind of visit"),
    Column("entries", "Patients put on the list"),
    Column("filled", "Booked from the list"),
    Column("withdrawn", "Withdrawn"),
    Column("waiting", "Still waiting"),
    Column("fill_rate", "Fill rate (%)"),
    Column("offers", "Offers made"),
    Column("accepted", "Offers accepted"),
    Column("expired", "Offers expired"),
    Column("hours_to_fill", "Median time to fill (hours)"),
]


def waitlist(filters: Filters) -> ReportResult:
    rows = fetch(WAITLIST_SQL, scope_params(filters, procedure_filter=False))
    rows = sorted((r for r in rows if r["entries"]), key=lambda r: (not r["total_row"], r["label"]))
    table = Table(
        key="by_type",
        title="By kind of visit",
        columns=WAITLIST_COLUMNS,
        rows=[
            {
                "label": row["label"],
                "entries": row["entries"],
                "filled": row["filled"],
                "withdrawn": row["withdrawn"],
                "waiting": row["waiting"],
                "fill_rate": percent(row["filled"], row["entries"]),
                "offers": int(row["offers"]),
                "accepted": int(row["accepted"]),
                "expired": int(row["expired"]),
                "hours_to_fill": rounded(row["hours_to_fill"]),
            }
            for row in rows
        ],
    )
    by_kind = Table(table.key, table.title, table.columns, table.rows[1:])
    charts = [
        _chart_of(
            by_kind, "fill-rate", "Fill rate by kind of visit", [("fill_rate", "Fill rate")], "%"
        ),
        _chart_of(
            by_kind, "time-to-fill", "Median time to fill", [("hours_to_fill", "Hours")], "Hours"
        ),
    ]
    notes = [
        "Patients put on the waitlist in the dates chosen. Fill rate: booked from the list "
        "over put on it. Time to fill: from joining the list to the booking of the accepted "
        "offer. The location and provider filters match entries that asked for that location "
        "or provider.",
        IGNORES_PROCEDURE,
    ]
    # Read live (a waitlist entry per hundred visits is few rows): figures as of now.
    return ReportResult(tables=[table], charts=charts, notes=notes, fresh_as_of=timezone.now())


register(
    Report(
        name="waitlist",
        title="Waitlist",
        description="How many waiting patients were booked into freed slots, and how fast.",
        audience=Audience.MANAGERS,
        build=waitlist,
    )
)


# --- Messages and confirmations ----------------------------------------------------------------

MESSAGE_SQL = f"""
WITH {MESSAGE_DAY_FACTS}
SELECT m.kind, m.channel, GROUPING(m.kind, m.channel) AS level, sum(m.messages) AS messages,
       sum(m.sent) AS sent, sum(m.failed) AS failed, sum(m.cancelled) AS cancelled,
       sum(m.waiting) AS waiting
FROM message_days m
GROUP BY GROUPING SETS ((m.kind, m.channel), (m.channel))
"""  # noqa: S608 (this module's constants only; every value is a query parameter)

CONFIRMED_COUNTS = """sum(open_visits) AS visits, sum(reminded) AS reminded,
       sum(confirmed) AS confirmed, sum(confirmed_reminded) AS confirmed_reminded"""

CONFIRMED_SQL = f"""
WITH {VISIT_DAY_FACTS}
SELECT 'all' AS dim, 'All visits' AS label, {CONFIRMED_COUNTS}
FROM visit_days
UNION ALL
SELECT 'location', l.name, {CONFIRMED_COUNTS}
FROM visit_days d JOIN scheduling_location l ON l.id = d.location_id GROUP BY l.id
UNION ALL
SELECT 'type', t.name, {CONFIRMED_COUNTS}
FROM visit_days d JOIN scheduling_appointmenttype t ON t.id = d.appointment_type_id GROUP BY t.id
"""  # noqa: S608 (this module's constants only; every value is a query parameter)

DELIVERY_COLUMNS = [
    Column("messages", "Messages"),
    Column("sent", "Sent"),
    Column("failed", "Failed"),
    Column("cancelled", "Cancelled"),
    Column("waiting", "Not yet sent"),
    Column("delivered", "Sent of those tried (%)"),
]
KIND_LABELS = dict(MessageKind.choices)
CHANNEL_LABELS = dict(Channel.choices)


def _delivery(row: Row) -> dict[str, Cell]:
    figures = {column.key: row.get(column.key) for column in DELIVERY_COLUMNS[:-1]}
    return figures | {"delivered": percent(row["sent"], row["sent"] + row["failed"])}


def _confirmation_table(key: str, title: str, heading: str, rows: list[Row]) -> Table:
    return Table(
        key=key,
        title=title,
        columns=[
            Column("group", heading),
            Column("visits", "Visits"),
            Column("reminded", "Reminder sent"),
            Column("confirmed", "Confirmed by the patient"),
            Column("confirmed_share", "Confirmed (%)"),
            Column("confirmed_of_reminded", "Confirmed of those reminded (%)"),
        ],
        rows=[
            {
                "group": row["label"],
                "visits": row["visits"],
                "reminded": row["reminded"],
                "confirmed": row["confirmed"],
                "confirmed_share": percent(row["confirmed"], row["visits"]),
                "confirmed_of_reminded": percent(row["confirmed_reminded"], row["reminded"]),
            }
            for row in rows
            if row["visits"]
        ],
    )


def messages(filters: Filters) -> ReportResult:
    part = split(filters)
    sent = fetch(MESSAGE_SQL, split_params(part, procedure_filter=False))
    visits = fetch(CONFIRMED_SQL, split_params(part))
    kinds = sorted(
        (row for row in sent if row["level"] == 0),
        key=lambda row: (KIND_LABELS.get(row["kind"], row["kind"]), row["channel"]),
    )
    channels = sorted((row for row in sent if row["level"] == 2), key=lambda row: row["channel"])
    by_kind = Table(
        key="by_kind",
        title="Delivery by kind and channel",
        columns=[Column("kind", "Kind"), Column("channel", "Channel"), *DELIVERY_COLUMNS],
        rows=[
            {
                "kind": KIND_LABELS.get(row["kind"], row["kind"]),
                "channel": CHANNEL_LABELS.get(row["channel"], row["channel"]),
            }
            | _delivery(row)
            for row in kinds
        ],
    )
    by_channel = Table(
        key="by_channel",
        title="Delivery by channel",
        columns=[Column("channel", "Channel"), *DELIVERY_COLUMNS],
        rows=[
            {"channel": CHANNEL_LABELS.get(row["channel"], row["channel"])} | _delivery(row)
            for row in channels
        ],
    )
    tables = [
        by_channel,
        by_kind,
        _confirmation_table(
            "confirmed", "Visits confirmed", "Visits", _dimension_rows(visits, "all")
        ),
        _confirmation_table(
            "confirmed_by_location",
            "Confirmed by location",
            "Location",
            _dimension_rows(visits, "location"),
        ),
        _confirmation_table(
            "confirmed_by_type",
            "Confirmed by kind of visit",
            "Kind of visit",
            _dimension_rows(visits, "type"),
        ),
    ]
    charts = [
        _chart_of(
            by_channel,
            "by-channel",
            "Messages by channel",
            (("sent", "Sent"), ("failed", "Failed")),
            "Messages",
        ),
        _chart_of(
            tables[4],
            "confirmed",
            "Visits confirmed by kind of visit",
            (("confirmed_share", "Confirmed"),),
            "% of visits",
        ),
    ]
    notes = [
        "Messages by the day they were due, at their location. Visits confirmed: visits in the "
        "dates (cancelled ones left out) that the patient confirmed from a reminder. The "
        "provider and procedure filters apply to the visits, not to the messages.",
        *part.note(),
    ]
    return ReportResult(tables=tables, charts=charts, notes=notes, fresh_as_of=part.fresh_as_of)


register(
    Report(
        name="messages",
        title="Messages and confirmations",
        description="Messages sent and failed by channel and kind, and the share of visits the "
        "patients confirmed.",
        audience=Audience.MANAGERS,
        build=messages,
    )
)
