"""Availability reads only the window: on an analyzed table with years of history, the
planner finds a window's appointments through the GiST indexes on (provider, block range)
and (room, block range), never by reading the table."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.tests.factories import PatientFactory
from scheduling.availability import free_slots
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
    works_every_day,
)

HISTORY = 10_000
BLOCK_RANGE_INDEXES = {"appointment_provider_busy_idx", "appointment_room_busy_idx"}
MONDAY = date(2030, 1, 7)

# Back-to-back past visits of the providers, one patient each per provider (no overlaps),
# inserted in one statement: years of history before the asked window.
HISTORY_SQL = """
INSERT INTO scheduling_appointment (
    id, patient_id, appointment_type_id, provider_id, location_id, room_id, start, "end",
    block_start, block_end, status, findings, cancel_reason, idempotency_key, overbooked,
    overbook_reason, created_at, updated_at)
SELECT gen_random_uuid(), (%(patients)s::uuid[])[i %% 3 + 1], %(kind)s,
       (%(providers)s::uuid[])[i %% 3 + 1], %(location)s, (%(rooms)s::uuid[])[i %% 3 + 1],
       at, at + interval '20 minutes', at, at + interval '30 minutes', 'completed', '[]', '',
       '', false, '', now(), now()
FROM generate_series(0, %(count)s - 1) AS i,
     LATERAL (SELECT %(before)s::timestamptz - (i / 3 + 1) * interval '30 minutes' AS at) AS t
"""


@pytest.fixture
def history(db):
    location = LocationFactory(time_zone="America/Chicago")
    providers = [ProviderFactory(locations=[location]) for _ in range(3)]
    rooms = [RoomFactory(location=location) for _ in range(3)]
    for provider in providers:
        works_every_day(provider, location)
    kind = AppointmentTypeFactory(max_horizon_days=4000)
    with connection.cursor() as cursor:
        # An import, not bookings: the write-history triggers would only slow it (rolled
        # back with the test).
        cursor.execute("ALTER TABLE scheduling_appointment DISABLE TRIGGER USER")
        cursor.execute(
            HISTORY_SQL,
            {
                "patients": [PatientFactory().pk for _ in providers],
                "kind": kind.pk,
                "providers": [p.pk for p in providers],
                "location": location.pk,
                "rooms": [r.pk for r in rooms],
                "count": HISTORY,
                "before": f"{MONDAY - timedelta(days=7)} 00:00+00",
            },
        )
        cursor.execute("ANALYZE scheduling_appointment")
    return {"location": location, "kind": kind}


def test_the_window_is_read_through_the_block_range_indexes(history):
    with CaptureQueriesContext(connection) as captured:
        free_slots(
            appointment_type=history["kind"],
            location=history["location"],
            start_date=MONDAY,
            end_date=MONDAY + timedelta(days=30),
        )
    (query,) = [q["sql"] for q in captured.captured_queries if "scheduling_appointment" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + query)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    scans = [line for line in plan.splitlines() if "Index Scan" in line]
    assert scans and all(BLOCK_RANGE_INDEXES & set(line.split()) for line in scans), plan
    conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert all("tstzrange(block_start, block_end" in line for line in conditions), plan
