"""The facts the reports sum, as SQL over the live tables: one definition, read by the refresh
that fills the summary tables (reports/summaries.py) and by the reports for the days the
summaries do not cover yet. Each text has two holes: `{scope}` (a join that limits the rows,
or nothing) and `{where}` (a condition on them); their values are query parameters.

Days are local to each location, as everywhere in the reports (reports/sql.py). A visit moved
to another time counts once, at its new time (the old row, cancelled as "Rescheduled", is
left out)."""

from .outcome_sql import FOLLOW_UP_POINTS, POINTS_SQL

LEAD_BAND_COUNT = 6  # reports.operations.LEAD_BANDS

VISIT_ROWS = """
SELECT a.id, (a.start AT TIME ZONE l.time_zone)::date AS day, a.location_id, a.provider_id,
       a.room_id, a.appointment_type_id, o.procedure_type_id, a.status, a.start,
       a.block_start, a.block_end, a.created_at, a.confirmed_at, a.checked_in_at,
       a.in_room_at, a.completed_at
FROM scheduling_appointment a
JOIN scheduling_location l ON l.id = a.location_id
LEFT JOIN procedures_procedureorder o ON o.id = a.procedure_order_id
{scope}
WHERE NOT (a.status = 'cancelled' AND a.cancel_reason = %(rescheduled)s) AND {where}
"""

# Each visit with what the reports count it as. Due: kept, missed or cancelled late (within
# the booking policy's change cutoff, %(cutoff)s hours, of its start).
GRADED_VISITS = f"""
SELECT v.*,
    v.status = 'no_show' AS missed,
    COALESCE(v.status = 'cancelled' AND (
        SELECT max(s.at) FROM scheduling_appointmentstatuschange s
        WHERE s.appointment_id = v.id AND s.to_status = 'cancelled' AND NOT s.undo
    ) > v.start - make_interval(hours => %(cutoff)s), false) AS late,
    CASE
        WHEN v.created_at > v.start THEN 5
        WHEN v.start - v.created_at < interval '1 day' THEN 0
        WHEN v.start - v.created_at < interval '8 days' THEN 1
        WHEN v.start - v.created_at < interval '15 days' THEN 2
        WHEN v.start - v.created_at < interval '31 days' THEN 3
        ELSE 4
    END AS lead_band,
    v.status IN ('booked', 'checked_in', 'in_room', 'completed', 'no_show') AS booked,
    (extract(epoch FROM v.block_end - v.block_start) / 60)::float8 AS minutes,
    v.status <> 'cancelled' AS open,
    v.status <> 'cancelled' AND EXISTS (
        SELECT 1 FROM notifications_message m
        WHERE m.subject_id = v.id AND m.kind = 'appointment_reminder' AND m.state = 'sent'
    ) AS reminded
FROM ({VISIT_ROWS}) v
OFFSET 0  -- computed once a visit, not once for each count that reads it
"""  # noqa: S608 (module constants only; every value is a query parameter)


def _by_lead(flag: str) -> str:
    counts = ", ".join(
        f"count(*) FILTER (WHERE {flag} AND g.lead_band = {band})"
        for band in range(LEAD_BAND_COUNT)
    )
    return f"ARRAY[{counts}]::integer[]"


DUE = "(g.status IN ('checked_in', 'in_room', 'completed', 'no_show') OR g.late)"

# The columns of reports_visitday, in order (the summary and the live rows are unioned).
VISIT_DAY_COLUMNS = (
    "day, location_id, provider_id, room_id, appointment_type_id, procedure_type_id, due, "
    "no_shows, late, due_by_lead, no_shows_by_lead, late_by_lead, booked_visits, "
    "booked_minutes, open_visits, reminded, confirmed, confirmed_reminded"
)

VISIT_DAYS = f"""
SELECT g.day, g.location_id, g.provider_id, g.room_id, g.appointment_type_id,
       g.procedure_type_id,
       count(*) FILTER (WHERE {DUE})::integer AS due,
       count(*) FILTER (WHERE {DUE} AND g.missed)::integer AS no_shows,
       count(*) FILTER (WHERE g.late)::integer AS late,
       {_by_lead(DUE)} AS due_by_lead,
       {_by_lead(DUE + " AND g.missed")} AS no_shows_by_lead,
       {_by_lead("g.late")} AS late_by_lead,
       count(*) FILTER (WHERE g.booked)::integer AS booked_visits,
       COALESCE(sum(g.minutes) FILTER (WHERE g.booked), 0)::float8 AS booked_minutes,
       count(*) FILTER (WHERE g.open)::integer AS open_visits,
       count(*) FILTER (WHERE g.reminded)::integer AS reminded,
       count(*) FILTER (WHERE g.open AND g.confirmed_at IS NOT NULL)::integer AS confirmed,
       count(*) FILTER (WHERE g.reminded AND g.confirmed_at IS NOT NULL)::integer
           AS confirmed_reminded
FROM ({GRADED_VISITS}) g
GROUP BY g.day, g.location_id, g.provider_id, g.room_id, g.appointment_type_id,
         g.procedure_type_id
"""  # noqa: S608 (module constants only; every value is a query parameter)

VISIT_WAIT_COLUMNS = (
    "day, location_id, provider_id, appointment_type_id, procedure_type_id, stage, minute, visits"
)

# The waits as histograms (decision 0038): per location-day, provider and kind of visit, how
# many checked-in visits waited m whole minutes at each stage (seconds / 60 rounded to the
# nearest minute, halves away from zero: `round` on numeric). Stage 'arrived' counts the
# checked-in visits themselves, at minute 0. Percentiles over these are exact to the minute.
VISIT_WAITS = f"""
SELECT v.day, v.location_id, v.provider_id, v.appointment_type_id, v.procedure_type_id,
       w.stage, w.minute, count(*)::integer AS visits
FROM ({VISIT_ROWS}) v
CROSS JOIN LATERAL (VALUES
    ('arrived', 0),
    ('to_room', round(extract(epoch FROM v.in_room_at - v.checked_in_at) / 60)::integer),
    ('in_room', round(extract(epoch FROM v.completed_at - v.in_room_at) / 60)::integer),
    ('total', round(extract(epoch FROM v.completed_at - v.checked_in_at) / 60)::integer)
) AS w (stage, minute)
WHERE v.checked_in_at IS NOT NULL AND w.minute IS NOT NULL
GROUP BY v.day, v.location_id, v.provider_id, v.appointment_type_id, v.procedure_type_id,
         w.stage, w.minute
"""  # noqa: S608 (module constants only; every value is a query parameter)

MESSAGE_DAY_COLUMNS = "day, location_id, kind, channel, messages, sent, failed, cancelled, waiting"

MESSAGE_DAY = "(m.due_at AT TIME ZONE COALESCE(l.time_zone, %(zone)s))::date"

MESSAGE_DAYS = f"""
SELECT {MESSAGE_DAY} AS day, m.location_id, m.kind, m.channel,
       count(*)::integer AS messages,
       count(*) FILTER (WHERE m.state = 'sent')::integer AS sent,
       count(*) FILTER (WHERE m.state = 'failed')::integer AS failed,
       count(*) FILTER (WHERE m.state = 'cancelled')::integer AS cancelled,
       count(*) FILTER (WHERE m.state IN ('pending', 'sending'))::integer AS waiting
FROM notifications_message m
LEFT JOIN scheduling_location l ON l.id = m.location_id
{{scope}}
WHERE {{where}}
GROUP BY 1, m.location_id, m.kind, m.channel
"""  # noqa: S608 (module constants only; every value is a query parameter)

# --- Outcomes -----------------------------------------------------------------------------

OUTCOME_RECORD_COLUMNS = (
    "record_id, patient_id, day, location_id, performer_id, procedure_type_id, performed_at, "
    "pre_nrs, complication, surveys_sent, surveys_answered"
)

# A survey counts as answered when the patient answered through a survey within the link's
# life (%(survey_days)s days).
OUTCOME_RECORDS = """
SELECT r.id AS record_id, r.patient_id, (r.performed_at AT TIME ZONE l.time_zone)::date AS day,
       r.location_id, r.performer_id, r.procedure_type_id, r.performed_at, r.pre_nrs,
       r.complications <> '' AS complication,
       COALESCE(v.sent, 0)::integer AS surveys_sent,
       COALESCE(v.answered, 0)::integer AS surveys_answered
FROM procedures_procedurerecord r
JOIN scheduling_location l ON l.id = r.location_id
{scope}
LEFT JOIN LATERAL (
  SELECT count(*) AS sent,
         count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM procedures_procedureoutcome o
           WHERE o.record_id = m.subject_id AND o.source = 'survey'
             AND o.measured_at >= m.sent_at
             AND o.measured_at < m.sent_at + %(survey_days)s * interval '1 day'
         )) AS answered
  FROM notifications_message m
  WHERE m.subject_id = r.id AND m.subject_type = 'procedure_record'
    AND m.kind = 'outcome_survey' AND m.state = 'sent'
) v ON true
WHERE {where}
"""

POINT_COLUMNS = (
    "point, nrs, percent_relief, pgic, odi_baseline, odi_follow_up, ndi_baseline, ndi_follow_up"
)
# reports_outcomepoint: a procedure's columns, then its point's.
OUTCOME_POINT_COLUMNS = f"{OUTCOME_RECORD_COLUMNS}, {POINT_COLUMNS}"


def _baseline(instrument: str) -> str:
    """The last score of the days before the procedure (%(baseline_days)s of them)."""
    return f"""(SELECT a.total FROM patients_assessment a
     WHERE a.patient_id = s.patient_id AND a.instrument = '{instrument}'
       AND a.taken_at <= s.performed_at
       AND a.taken_at > s.performed_at - %(baseline_days)s * interval '1 day'
     ORDER BY a.taken_at DESC, a.id LIMIT 1)"""  # noqa: S608 (constants only)


def _follow_up(instrument: str) -> str:
    """The score nearest the point's day inside its window."""
    return f"""(SELECT a.total FROM patients_assessment a
     WHERE a.patient_id = s.patient_id AND a.instrument = '{instrument}'
       AND a.taken_at >= s.performed_at + pt.first_day * interval '1 day'
       AND a.taken_at < s.performed_at + (pt.last_day + 1) * interval '1 day'
     ORDER BY abs(extract(epoch FROM a.taken_at - s.performed_at) - pt.day * 86400),
              a.taken_at, a.id
     LIMIT 1)"""  # noqa: S608 (constants only)


# Each record of `{records}` (a CTE with record_id, patient_id, performed_at) at each point:
# the outcome measured nearest the point's day inside its window (earliest on a tie).
OUTCOME_POINTS = f"""
SELECT s.record_id, pt.point, n.nrs, n.percent_relief, n.pgic,
       {_baseline("odi")} AS odi_baseline, {_follow_up("odi")} AS odi_follow_up,
       {_baseline("ndi")} AS ndi_baseline, {_follow_up("ndi")} AS ndi_follow_up
FROM {{records}} s
CROSS JOIN {POINTS_SQL} AS pt(point, day, first_day, last_day, ord)
LEFT JOIN LATERAL (
  SELECT o.nrs, o.percent_relief, o.pgic FROM procedures_procedureoutcome o
  WHERE o.record_id = s.record_id
    AND o.measured_at >= s.performed_at + pt.first_day * interval '1 day'
    AND o.measured_at < s.performed_at + (pt.last_day + 1) * interval '1 day'
  ORDER BY abs(extract(epoch FROM o.measured_at - s.performed_at) - pt.day * 86400),
           o.measured_at, o.id
  LIMIT 1
) n ON true
"""  # noqa: S608 (module constants only; every value is a query parameter)

POINT_KEYS = tuple(point.key for point in FOLLOW_UP_POINTS)
