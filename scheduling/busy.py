"""Busy time in a window, as availability reads it: each provider's and each room's visits
that hold time and overlap the window, in one query through the GiST indexes on
(provider, block range) and (room, block range) — written as an overlap `&&` on that same
range expression, so the planner uses them and never reads the clinic's history — and
kept as merged, sorted runs of epoch microseconds: whether a block is free is then one
bisection over integers."""

from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections

from clinic.core.dbrouter import read_alias

from .models import HOLDS_TIME

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """An aware moment as whole microseconds since 1970 (exact, unlike a float)."""
    return (moment - EPOCH) // MICROSECOND


def moment(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


class Busy:
    """One provider's or room's busy spans, merged into disjoint runs in order: the first
    run ending after a block's start must begin at or after the block's end."""

    __slots__ = ("ends", "starts")

    def __init__(self, starts: list[int], ends: list[int]) -> None:
        """Each span's end beside its start, in any order."""
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(zip(starts, ends, strict=True)):
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def blocked_until(self, start: int, end: int) -> int | None:
        """The end of the run the block [start, end) meets, or None when it is free."""
        index = bisect_right(self.ends, start)
        if index == len(self.ends) or self.starts[index] >= end:
            return None
        return self.ends[index]

    def is_free(self, start: int, end: int) -> bool:
        return self.blocked_until(start, end) is None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """For a caller holding datetimes: is any of [start, end) busy?"""
        return not self.is_free(micros(start), micros(end))


FREE = Busy([], [])


# Per provider and per room (one scan, two groupings: a UNION of two aggregates made the
# planner start parallel workers, slower on a busy 2-core machine), the starts and ends of
# the blocks holding time that overlap the window. Each branch of the OR is an overlap on
# the range expression the GiST indexes hold, so the planner reads the window only. Ids
# come back as text (a UUID object per row would cost more than the rest of the read);
# times as epoch microseconds: date_part's double is within 0.13 µs of the true value
# before the year 2100, so the rounding cast is exact, and a third cheaper than EXTRACT.
BUSY_SQL = """
SELECT provider_id::text, room_id::text, GROUPING(provider_id) = 0,
       array_agg({start}), array_agg({end})
FROM scheduling_appointment
WHERE ((provider_id = ANY(%(providers)s::uuid[]) AND {span} && {window})
       OR (room_id = ANY(%(rooms)s::uuid[]) AND {span} && {window}))
  AND status = ANY(%(holding)s)
GROUP BY GROUPING SETS ((provider_id), (room_id))
""".format(
    start="(date_part('epoch', block_start) * 1000000)::bigint",
    end="(date_part('epoch', block_end) * 1000000)::bigint",
    span="tstzrange(block_start, block_end, '[)')",
    window="tstzrange(%(first)s, %(last)s, '[)')",
)


def busy_in(
    provider_ids: list, room_ids: list, first: datetime, last: datetime
) -> tuple[dict[Any, Busy], dict[Any, Busy]]:
    """({provider id: Busy}, {room id: Busy}) for the visits holding time that overlap
    [first, last), in one query (`BUSY_SQL`). Rows grouped under a provider or room not
    asked for (met through the other branch) are left out."""
    providers = {str(pk): pk for pk in provider_ids}
    rooms = {str(pk): pk for pk in room_ids}
    found: tuple[dict[Any, Busy], dict[Any, Busy]] = ({}, {})
    if not providers and not rooms:
        return found
    params: dict[str, Any] = {
        "providers": provider_ids,
        "rooms": room_ids,
        "first": first,
        "last": last,
        "holding": list(HOLDS_TIME),
    }
    # Raw SQL is not routed: on the replica when the caller reads from it (dbrouter.py).
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(BUSY_SQL, params)
        for provider, room, by_provider, starts, ends in cursor.fetchall():
            if by_provider and provider in providers:
                found[0][providers[provider]] = Busy(starts, ends)
            elif not by_provider and room in rooms:
                found[1][rooms[room]] = Busy(starts, ends)
    return found
