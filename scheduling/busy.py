"""Busy time in a window, as availability reads it: each provider's and each room's visits
that hold time and overlap the window, in one query through the GiST indexes on
(provider, block range) and (room, block range) — written as an overlap `&&` on that same
range expression, so the planner uses them and never reads the clinic's history — and
kept as merged, sorted runs of epoch microseconds: whether a block is free is then one
bisection over integers."""

from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import BigIntegerField, Func, TextField, Value
from django.db.models.functions import Cast

from .models import HOLDS_TIME, Appointment, TsTzRange

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """An aware moment as whole microseconds since 1970 (exact, unlike a float)."""
    return (moment - EPOCH) // MICROSECOND


def moment(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


class EpochMicros(Func):
    """A timestamptz as whole microseconds since 1970. date_part's double is within 0.13 µs
    of the true value before the year 2100, so the rounding cast is exact; it is a third
    cheaper than EXTRACT's numeric over a month of a busy location."""

    template = "(date_part('epoch', %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


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


def busy_in(
    provider_ids: list, room_ids: list, first: datetime, last: datetime
) -> tuple[dict[Any, Busy], dict[Any, Busy]]:
    """({provider id: Busy}, {room id: Busy}) for the visits holding time that overlap
    [first, last). One query: per provider and per room, its blocks' starts and ends as
    two arrays (sorted here: cheaper than an ordered aggregate); ids come back as text, matched to the asked ones (a UUID object per
    row would cost more than the rest of the read)."""
    window = TsTzRange(Value(first), Value(last), Value("[)"))
    holding = (
        Appointment.objects.alias(span=TsTzRange("block_start", "block_end", Value("[)")))
        .filter(status__in=HOLDS_TIME, span__overlap=window)
        .order_by()
    )
    spans = {
        "starts": ArrayAgg(EpochMicros("block_start")),
        "ends": ArrayAgg(EpochMicros("block_end")),
    }
    columns = ("owner", "key", "starts", "ends")
    by_provider = (
        holding.filter(provider__in=provider_ids)
        .values("provider_id")
        .annotate(owner=Value("provider"), key=Cast("provider_id", TextField()), **spans)
        .values_list(*columns)
    )
    by_room = (
        holding.filter(room__in=room_ids)
        .values("room_id")
        .annotate(owner=Value("room"), key=Cast("room_id", TextField()), **spans)
        .values_list(*columns)
    )
    asked = {
        "provider": {str(pk): pk for pk in provider_ids},
        "room": {str(pk): pk for pk in room_ids},
    }
    found: dict[str, dict[Any, Busy]] = {"provider": {}, "room": {}}
    for owner, key, starts, ends in by_provider.union(by_room, all=True):
        found[owner][asked[owner][key]] = Busy(starts, ends)
    return found["provider"], found["room"]
