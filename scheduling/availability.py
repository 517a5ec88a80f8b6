"""Free slots of an appointment type, from weekly hours, dated exceptions, the day's
appointments, buffers, rooms, notice and horizon — in each location's own time zone.

The work is bounded by the asked window, not by the clinic's history: a fixed number of
queries (7, or 8 without a location) reads the hours, the exceptions and the busy time
that overlaps the window (`busy.py`: an index scan of the window only, whatever the
history; `tests/test_availability_plan.py` checks the plan on an analyzed table). Each
session is walked once on its grid of candidate starts in epoch microseconds: a candidate
whose block meets the provider's busy run jumps past that run at once, and a room is
found by bisection, so a call costs about O(free slots + busy runs), never their product.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, Protocol

from django.db import connections
from django.db.models import Q
from django.utils import timezone

from clinic.core.dbrouter import read_alias
from sites.models import Location, OpeningHours, Provider, Room

from .busy import FREE, Busy, busy_in, micros, moment
from .models import (
    HOLDS_TIME,
    AppointmentType,
    ExceptionKind,
    ScheduleException,
    WorkingHours,
)

MAX_WINDOW_DAYS = 31


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable span, in UTC (datetimes of one zone compare and subtract on the wall
    clock, which is wrong across a DST change); `local_start` is for people."""

    start: datetime
    end: datetime
    provider: Provider
    room: Room | None
    location: Location

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(self.location.zone)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(self.location.zone)


@dataclass(frozen=True)
class Need:
    """What one booking occupies: minutes of visit, buffers, the room kind."""

    minutes: int
    before: int
    after: int
    room_kind: str

    @classmethod
    def of(cls, appointment_type: AppointmentType, procedure_type=None, levels: int = 1) -> "Need":
        if procedure_type is not None:
            return cls(
                procedure_type.minutes_for(levels),
                0,
                procedure_type.turnover_minutes,
                procedure_type.room_kind,
            )
        return cls(
            appointment_type.duration_minutes,
            appointment_type.buffer_before_minutes,
            appointment_type.buffer_after_minutes,
            appointment_type.room_kind,
        )


def local(day: date, moment: time, zone) -> datetime:
    """A wall-clock time on a day in a zone, as an aware datetime (the earlier of a repeated
    time; working hours never fall in the spring-forward gap in US zones)."""
    return datetime.combine(day, moment).replace(tzinfo=zone)


def _days(start_date: date, end_date: date):
    day = start_date
    while day <= end_date:
        yield day
        day += timedelta(days=1)


def _subtract(intervals: list[tuple], removed: list[tuple]) -> list[tuple]:
    result = intervals
    for cut_start, cut_end in removed:
        kept = []
        for start, end in result:
            if cut_end <= start or cut_start >= end:
                kept.append((start, end))
                continue
            if start < cut_start:
                kept.append((start, cut_start))
            if cut_end < end:
                kept.append((cut_end, end))
        result = kept
    return result


def _exception_span(exception: "ExceptionLike", zone) -> tuple[datetime, datetime]:
    if exception.start_time is None or exception.end_time is None:  # the whole day
        start = local(exception.date, time.min, zone)
        return start, local(exception.date + timedelta(days=1), time.min, zone)
    return local(exception.date, exception.start_time, zone), local(
        exception.date, exception.end_time, zone
    )


class Calendar:
    """Everything availability reads for a window, loaded once."""

    def __init__(self, *, providers, locations, start_date, end_date, room_kind):
        self.providers, self.locations = providers, locations
        first = min(local(start_date, time.min, loc.zone) for loc in locations)
        last = max(local(end_date + timedelta(days=1), time.min, loc.zone) for loc in locations)
        provider_ids = [p.pk for p in providers]
        location_ids = [loc.pk for loc in locations]
        self.opening = defaultdict(list)
        for opening in OpeningHours.objects.filter(location__in=location_ids):
            self.opening[(opening.location_id, opening.weekday)].append(opening)
        self.has_opening_hours = {location_id for location_id, _ in self.opening}
        self.hours = defaultdict(list)
        for hours in WorkingHours.objects.filter(
            provider__in=provider_ids, location__in=location_ids
        ):
            self.hours[(hours.provider_id, hours.location_id, hours.weekday)].append(hours)
        self.exceptions = list(
            ScheduleException.objects.filter(
                Q(provider__in=provider_ids) | Q(location__in=location_ids),
                date__gte=start_date - timedelta(days=1),
                date__lte=end_date + timedelta(days=1),
            )
        )
        self.exceptions_on = defaultdict(list)
        for exception in self.exceptions:
            self.exceptions_on[exception.date].append(exception)
        self.rooms = defaultdict(list)
        if room_kind:
            for room in Room.objects.filter(
                location__in=location_ids, kind=room_kind, is_active=True
            ):
                self.rooms[room.location_id].append(room)
        room_ids = [r.pk for rooms in self.rooms.values() for r in rooms]
        self.provider_busy, self.room_busy = busy_in(provider_ids, room_ids, first, last)

    def provider_free(self, provider_id) -> Busy:
        return self.provider_busy.get(provider_id, FREE)

    def room_free(self, room_id) -> Busy:
        return self.room_busy.get(room_id, FREE)

    def sessions(self, provider: Provider, location: Location, day: date) -> list[tuple]:
        opening = None
        if location.pk in self.has_opening_hours:
            opening = self.opening[(location.pk, day.weekday())]
        return day_sessions(
            day,
            location,
            provider.pk,
            hours=self.hours[(provider.pk, location.pk, day.weekday())],
            exceptions=self.exceptions_on.get(day, ()),
            opening=opening,
        )


class HoursLike(Protocol):
    """A provider's weekly session at a location (WorkingHours, or a row read raw)."""

    @property
    def start_time(self) -> time: ...
    @property
    def end_time(self) -> time: ...
    @property
    def valid_from(self) -> date | None: ...
    @property
    def valid_until(self) -> date | None: ...


class ExceptionLike(Protocol):
    """A dated exception (ScheduleException, or a row read raw)."""

    @property
    def kind(self) -> str: ...
    @property
    def provider_id(self) -> Any: ...
    @property
    def location_id(self) -> Any: ...
    @property
    def date(self) -> date: ...
    @property
    def start_time(self) -> time | None: ...
    @property
    def end_time(self) -> time | None: ...


class OpeningLike(Protocol):
    @property
    def opens(self) -> time: ...
    @property
    def closes(self) -> time: ...


def day_sessions(
    day: date,
    location: Location,
    provider_id: Any,
    *,
    hours: Iterable[HoursLike],
    exceptions: Iterable[ExceptionLike],
    opening: Iterable[OpeningLike] | None,
) -> list[tuple[datetime, datetime]]:
    """The provider's sessions at the location on a local day: the weekday's hours valid
    that day and the extra sessions, minus holidays and time off, clipped to the opening
    hours (`opening`: that weekday's; None for a location that keeps none, which the
    sessions alone limit). `exceptions`: that day's."""
    zone = location.zone
    spans = [
        (local(day, h.start_time, zone), local(day, h.end_time, zone))
        for h in hours
        if (h.valid_from is None or h.valid_from <= day)
        and (h.valid_until is None or day <= h.valid_until)
    ]
    todays = list(exceptions)
    spans += [
        _exception_span(e, zone)
        for e in todays
        if e.kind == ExceptionKind.EXTRA_SESSION
        and e.provider_id == provider_id
        and e.location_id == location.pk
    ]
    closed = [
        _exception_span(e, zone)
        for e in todays
        if (e.kind == ExceptionKind.HOLIDAY and e.location_id == location.pk)
        or (e.kind == ExceptionKind.TIME_OFF and e.provider_id == provider_id)
    ]
    spans = sorted(_subtract(spans, closed))
    if opening is None:
        return spans
    open_spans = [(local(day, o.opens, zone), local(day, o.closes, zone)) for o in opening]
    return [
        (max(start, open_start), min(end, open_end))
        for start, end in spans
        for open_start, open_end in open_spans
        if max(start, open_start) < min(end, open_end)
    ]


@dataclass(frozen=True)
class Walk:
    """How candidate starts are laid out in a session, in epoch microseconds: every `step`
    from its start plus the buffer before, while the visit and the buffer after fit, inside
    notice and horizon."""

    before: int
    visit: int
    occupied: int  # from the visit's start to the end of what it blocks
    step: int
    earliest: int
    latest: int
    room_kind: str

    @classmethod
    def of(cls, need: Need, step_minutes: int, earliest: datetime, latest: datetime) -> "Walk":
        minute = 60_000_000
        return cls(
            before=need.before * minute,
            visit=need.minutes * minute,
            occupied=(need.minutes + need.after) * minute,
            step=step_minutes * minute,
            earliest=micros(earliest),
            latest=micros(latest),
            room_kind=need.room_kind,
        )

    def starts_at(self, start: int, session_start: datetime, session_end: datetime) -> bool:
        """Whether `start` is one of the session's candidate starts."""
        first, last = self.bounds(session_start, session_end)
        return first <= start <= last and (start - first) % self.step == 0

    def bounds(self, session_start: datetime, session_end: datetime) -> tuple[int, int]:
        """The first and last candidate starts; real time, so a session across a DST change
        keeps its real minutes. The first is on the session's grid at or after `earliest`."""
        first = micros(session_start) + self.before
        if first < self.earliest:
            first += self.step * -((first - self.earliest) // self.step)
        return first, min(micros(session_end) - self.occupied, self.latest)


def reach(
    appointment_type: AppointmentType, *, for_staff: bool, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The earliest and latest start offered: notice and horizon bind patients; for staff
    only the past is closed."""
    now = now or timezone.now()
    if for_staff:
        return now, datetime.max.replace(tzinfo=UTC)
    return (
        now + timedelta(hours=appointment_type.min_notice_hours),
        now + timedelta(days=appointment_type.max_horizon_days),
    )


def free_slots(
    *,
    appointment_type: AppointmentType,
    start_date: date,
    end_date: date,
    provider: Provider | None = None,
    location: Location | None = None,
    procedure_type=None,
    levels: int = 1,
    now: datetime | None = None,
    limit: int | None = None,
    for_staff: bool = False,
    max_days: int = MAX_WINDOW_DAYS,
) -> list[Slot]:
    """The bookable slots, earliest first. `start_date`/`end_date` are local dates (at most
    `max_days` of them are read). Notice and horizon bind patients; for staff only the past
    is closed."""
    need = Need.of(appointment_type, procedure_type, levels)
    earliest, latest = reach(appointment_type, for_staff=for_staff, now=now)
    end_date = min(end_date, start_date + timedelta(days=max_days - 1))
    locations = [location] if location else list(Location.objects.filter(is_active=True))
    candidates = Provider.objects.filter(
        is_active=True, locations__in=[loc.pk for loc in locations]
    )
    if provider is not None:
        candidates = candidates.filter(pk=provider.pk)
    if procedure_type is not None:
        candidates = candidates.filter(procedure_types=procedure_type)
    providers = list(candidates.distinct().prefetch_related("locations"))
    if not providers or not locations:
        return []
    calendar = Calendar(
        providers=providers,
        locations=locations,
        start_date=start_date,
        end_date=end_date,
        room_kind=need.room_kind,
    )
    walk = Walk.of(need, appointment_type.slot_step_minutes, earliest, latest)
    works_at = {doc.pk: {loc.pk for loc in doc.locations.all()} for doc in providers}
    found = Found(providers, calendar)
    for loc in locations:
        rooms = [calendar.room_free(room.pk) for room in calendar.rooms[loc.pk]]
        for doc in providers:
            if loc.pk not in works_at[doc.pk]:
                continue
            busy, owner = calendar.provider_free(doc.pk), found.owner(doc, loc)
            for day in _days(start_date, end_date):
                for session in calendar.sessions(doc, loc, day):
                    _session_slots(walk, busy, rooms, session, owner, found)
    return found.slots(walk, limit)


class Found:
    """The free slots as they are found, in lists of plain integers: ten thousand small
    objects would cost more in garbage collection than the search itself. Each slot is a
    sort key (start, then the provider's last name and the room's name, as ranks), its
    start, and who holds it (provider, room, location); made Slots once sorted."""

    def __init__(self, providers: list[Provider], calendar: Calendar) -> None:
        self.calendar = calendar
        self.name_rank = _ranks(p.last_name for p in providers)
        rooms = [room for rooms in calendar.rooms.values() for room in rooms]
        self.room_rank = _ranks([""] + [room.name for room in rooms])
        self.span = len(self.name_rank) * len(self.room_rank)
        self.keys: list[int] = []
        self.starts: list[int] = []
        self.owners: list[int] = []
        self.holders: list[tuple] = []  # (provider, room, location) by owner number

    def owner(self, doc: Provider, loc: Location) -> list[tuple[int, int]]:
        """(sort key part, owner number) for each of the location's rooms, then for none."""
        found = []
        for room in [*self.calendar.rooms[loc.pk], None]:
            rank = self.name_rank[doc.last_name] * len(self.room_rank)
            rank += self.room_rank[room.name if room else ""]
            found.append((rank, len(self.holders)))
            self.holders.append((doc, room, loc))
        return found

    def slots(self, walk: Walk, limit: int | None) -> list[Slot]:
        order = sorted(range(len(self.keys)), key=self.keys.__getitem__)
        moments: dict[int, datetime] = {}

        def at(instant: int) -> datetime:
            made = moments.get(instant)
            if made is None:
                made = moments[instant] = moment(instant)
            return made

        return [
            Slot(at(self.starts[n]), at(self.starts[n] + walk.visit), *self.holders[self.owners[n]])
            for n in (order[:limit] if limit else order)
        ]


def _ranks(names: Iterable[str]) -> dict[str, int]:
    return {name: rank for rank, name in enumerate(sorted(set(names)))}


def _session_slots(
    walk: Walk,
    busy: Busy,
    rooms: list[Busy],
    session: tuple[datetime, datetime],
    owner: list[tuple[int, int]],
    found: Found,
) -> None:
    """The session's free slots, into `found`: a candidate whose block meets the provider's
    busy run jumps past that run's end at once; a room is the first of the kind free."""
    start, last = walk.bounds(*session)
    before, occupied, step, span = walk.before, walk.occupied, walk.step, found.span
    starts, ends = busy.starts, busy.ends  # Busy.blocked_until, inlined: the hot loop
    runs = len(ends)
    while start <= last:
        block_start, block_end = start - before, start + occupied
        run = bisect_right(ends, block_start)
        if run < runs and starts[run] < block_end:
            start += step * -((block_start - ends[run]) // step)
            continue
        room = _free_room(rooms, walk, block_start, block_end)
        if room is not None:
            rank, number = owner[room]
            found.keys.append(start * span + rank)
            found.starts.append(start)
            found.owners.append(number)
        start += step


def _free_room(rooms: list[Busy], walk: Walk, block_start: int, block_end: int) -> int | None:
    """The index of the first free room of the kind needed, len(rooms) when no room is
    needed, None when none is free."""
    if not walk.room_kind:
        return len(rooms)
    for index, busy in enumerate(rooms):
        if busy.is_free(block_start, block_end):
            return index
    return None


# --- One start: is it offered? ---------------------------------------------------------------


class _Hours(NamedTuple):
    start_time: time
    end_time: time
    valid_from: date | None
    valid_until: date | None


class _Exception(NamedTuple):
    kind: str
    provider_id: Any
    location_id: Any
    date: date
    start_time: time | None
    end_time: time | None


class _Opening(NamedTuple):
    opens: time
    closes: time


# Everything `offer_at` reads, in one statement: the provider's hours at the location that
# weekday, the location's opening hours (all weekdays: one that keeps none is limited by the
# sessions alone), that day's exceptions, whether a visit holds the provider's time over the
# block, and the location's active rooms of the kind free over it, in availability's room
# order (Room's ordering: the name, within one location). The busy tests are overlaps on
# the range expression the partial GiST indexes hold, as in busy.BUSY_SQL.
OFFER_SQL = """
SELECT h.starts, h.ends, h.froms, h.untils, o.weekdays, o.opens, o.closes,
       x.kinds, x.providers, x.locations, x.starts, x.ends,
       EXISTS (SELECT 1 FROM scheduling_appointment
               WHERE provider_id = %(provider)s AND tstzrange(block_start, block_end, '[)')
                     && tstzrange(%(block_start)s, %(block_end)s, '[)')
                 AND status = ANY(%(holding)s)),
       r.ids, r.names
FROM (SELECT array_agg(start_time) AS starts, array_agg(end_time) AS ends,
             array_agg(valid_from) AS froms, array_agg(valid_until) AS untils
      FROM scheduling_workinghours
      WHERE provider_id = %(provider)s AND location_id = %(location)s
        AND weekday = %(weekday)s) AS h,
     (SELECT array_agg(weekday) AS weekdays, array_agg(opens) AS opens,
             array_agg(closes) AS closes
      FROM scheduling_openinghours WHERE location_id = %(location)s) AS o,
     (SELECT array_agg(kind) AS kinds, array_agg(provider_id) AS providers,
             array_agg(location_id) AS locations, array_agg(start_time) AS starts,
             array_agg(end_time) AS ends
      FROM scheduling_scheduleexception
      WHERE (provider_id = %(provider)s OR location_id = %(location)s)
        AND date = %(day)s) AS x,
     (SELECT array_agg(id ORDER BY name) AS ids, array_agg(name ORDER BY name) AS names
      FROM scheduling_room AS room
      WHERE location_id = %(location)s AND kind = %(room_kind)s AND is_active
        AND NOT EXISTS (SELECT 1 FROM scheduling_appointment
                        WHERE room_id = room.id AND tstzrange(block_start, block_end, '[)')
                              && tstzrange(%(block_start)s, %(block_end)s, '[)')
                          AND status = ANY(%(holding)s))) AS r
"""


@dataclass(frozen=True, slots=True)
class Offer:
    """An offered start, and the room availability gives it (None when none is needed)."""

    room: Room | None


def offer_at(
    *,
    appointment_type: AppointmentType,
    location: Location,
    provider: Provider,
    start: datetime,
    need: Need,
    for_staff: bool,
    now: datetime | None = None,
) -> Offer | None:
    """Whether `free_slots` over the start's local day would offer this provider at `start`
    (with `need`), and with which room; None when it would not. One statement, whatever
    the clinic's size (`OFFER_SQL`): the day's sessions come from the rules availability
    uses (`day_sessions`, `Walk`), so the answer is the same without laying out the day.
    The provider is taken as eligible (active, working at the location, performing the
    procedure): the booking checks that first."""
    zone = location.zone
    day = start.astimezone(zone).date()
    minute = timedelta(minutes=1)
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(
            OFFER_SQL,
            {
                "provider": provider.pk,
                "location": location.pk,
                "weekday": day.weekday(),
                "day": day,
                "room_kind": need.room_kind,
                "block_start": start - need.before * minute,
                "block_end": start + (need.minutes + need.after) * minute,
                "holding": list(HOLDS_TIME),
            },
        )
        row = cursor.fetchone()
    provider_busy, room_ids, room_names = row[12], row[13] or [], row[14] or []
    if provider_busy or (need.room_kind and not room_ids):
        return None
    sessions = day_sessions(
        day,
        location,
        provider.pk,
        hours=[_Hours(*hours) for hours in _columns(row[0:4])],
        exceptions=[_Exception(k, p, loc, day, s, e) for k, p, loc, s, e in _columns(row[7:12])],
        opening=_opening_on(day, row[4:7]),
    )
    earliest, latest = reach(appointment_type, for_staff=for_staff, now=now)
    walk = Walk.of(need, appointment_type.slot_step_minutes, earliest, latest)
    if not any(walk.starts_at(micros(start), *session) for session in sessions):
        return None
    if not need.room_kind:
        return Offer(room=None)
    fields = ["id", "location_id", "name", "kind", "is_active"]
    values = [room_ids[0], location.pk, room_names[0], need.room_kind, True]
    return Offer(room=Room.from_db(read_alias(), fields, values))


def _columns(arrays: tuple) -> list[tuple]:
    """Rows from the columns array_agg made (None: no rows)."""
    return list(zip(*arrays, strict=True)) if arrays[0] is not None else []


def _opening_on(day: date, arrays: tuple) -> list[_Opening] | None:
    """That weekday's opening hours; None when the location keeps none at all."""
    if arrays[0] is None:
        return None
    return [
        _Opening(opens, closes)
        for weekday, opens, closes in zip(*arrays, strict=True)
        if weekday == day.weekday()
    ]
