"""The invariant the exclusion constraints keep, counted straight from the table: two active
visits that overlap for one provider (neither overbooked), one room or one patient. Storm
tests and benchmarks run it after the storm; it must always be 0."""

from django.db import connection

OVERLAPS_SQL = """
SELECT count(*) FROM scheduling_appointment a
JOIN scheduling_appointment b ON a.id < b.id
WHERE a.status IN ('booked', 'checked_in', 'in_room', 'completed')
  AND b.status IN ('booked', 'checked_in', 'in_room', 'completed')
  AND (
    (a.provider_id = b.provider_id AND NOT a.overbooked AND NOT b.overbooked
     AND tstzrange(a.block_start, a.block_end) && tstzrange(b.block_start, b.block_end))
    OR (a.room_id = b.room_id
        AND tstzrange(a.block_start, a.block_end) && tstzrange(b.block_start, b.block_end))
    OR (a.patient_id = b.patient_id AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end"))
  )
"""


def overlapping_pairs() -> int:
    """How many pairs of active visits overlap where a constraint forbids it (0, always)."""
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS_SQL)
        (count,) = cursor.fetchone()
    return int(count)
