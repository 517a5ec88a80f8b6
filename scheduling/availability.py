"""Free slots of an appointment type, from weekly hours, dated exceptions, the day's
appointments, buffers, rooms, notice and horizon — in each location's own time zone.

The work is bounded by the asked window: a fixed number of queries reads the hours, the
exceptions and the appointments inside the window, never the clinic's history.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from sites.models import Location, OpeningHours, Provider, Room

from .models import (
    HOLDS_TIME,
    Appointment,
    AppointmentType,
    ExceptionKind,
    ScheduleException,
    WorkingHours,
)

MAX_WINDOW_DAYS = 31


@dataclass(frozen=True)
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


def _exception_span(exception: ScheduleException, zone) -> tuple[datetime, datetime]:
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
        self.rooms = defaultdict(list)
        if room_kind:
            for room in Room.objects.filter(
                location__in=location_ids, kind=room_kind, is_active=True
            ):
                self.rooms[room.location_id].append(room)
        busy = Appointment.objects.filter(
            Q(provider__in=provider_ids)
            | Q(room__in=[r.pk for rooms in self.rooms.values() for r in rooms]),
            status__in=HOLDS_TIME,
            block_start__lt=last,
            block_end__gt=first,
        ).values_list("provider_id", "room_id", "block_start", "block_end")
        self.provider_busy, self.room_busy = defaultdict(list), defaultdict(list)
        for provider_id, room_id, start, end in busy:
            self.provider_busy[provider_id].append((start, end))
            if room_id:
                self.room_busy[room_id].append((start, end))

    def sessions(self, provider: Provider, location: Location, day: date) -> list[tuple]:
        zone = location.zone
        spans = [
            (local(day, h.start_time, zone), local(day, h.end_time, zone))
            for h in self.hours[(provider.pk, location.pk, day.weekday())]
            if (h.valid_from is None or h.valid_from <= day)
            and (h.valid_until is None or day <= h.valid_until)
        ]
        todays = [e for e in self.exceptions if e.date == day]
        spans += [
            _exception_span(e, zone)
            for e in todays
            if e.kind == ExceptionKind.EXTRA_SESSION
            and e.provider_id == provider.pk
            and e.location_id == location.pk
        ]
        closed = [
            _exception_span(e, zone)
            for e in todays
            if (e.kind == ExceptionKind.HOLIDAY and e.location_id == location.pk)
            or (e.kind == ExceptionKind.TIME_OFF and e.provider_id == provider.pk)
        ]
        spans = sorted(_subtract(spans, closed))
        if location.pk not in self.has_opening_hours:
            return spans  # a location without opening hours is limited by the sessions alone
        open_spans = [
            (local(day, o.opens, zone), local(day, o.closes, zone))
            for o in self.opening[(location.pk, day.weekday())]
        ]
        return [
            (max(start, open_start), min(end, open_end))
            for start, end in spans
            for open_start, open_end in open_spans
            if max(start, open_start) < min(end, open_end)
        ]


def _free(busy: list[tuple], start: datetime, end: datetime) -> bool:
    return all(end <= b_start or start >= b_end for b_start, b_end in busy)


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
    now = now or timezone.now()
    need = Need.of(appointment_type, procedure_type, levels)
    if for_staff:
        earliest, latest = now, datetime.max.replace(tzinfo=UTC)
    else:
        earliest = now + timedelta(hours=appointment_type.min_notice_hours)
        latest = now + timedelta(days=appointment_type.max_horizon_days)
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
    step = timedelta(minutes=appointment_type.slot_step_minutes)
    slots = []
    for loc in locations:
        for day in _days(start_date, end_date):
            for doc in providers:
                if loc not in doc.locations.all():
                    continue
                for session_start, session_end in calendar.sessions(doc, loc, day):
                    slots += _session_slots(
                        calendar, need, doc, loc, session_start, session_end, step, earliest, latest
                    )
    slots.sort(key=lambda s: (s.start, s.provider.last_name, s.room.name if s.room else ""))
    return slots[:limit] if limit else slots


def _session_slots(calendar, need, doc, loc, session_start, session_end, step, earliest, latest):
    found = []
    # Walk in UTC so a session across a DST change keeps real minutes.
    start = session_start.astimezone(UTC) + timedelta(minutes=need.before)
    visit = timedelta(minutes=need.minutes)
    while start + visit + timedelta(minutes=need.after) <= session_end:
        block = (
            start - timedelta(minutes=need.before),
            start + visit + timedelta(minutes=need.after),
        )
        if earliest <= start <= latest and _free(calendar.provider_busy[doc.pk], *block):
            room = _free_room(calendar, need, loc, block)
            if room is not False:
                found.append(
                    Slot(
                        start,
                        start + visit,
                        doc,
                        room,
                        loc,
                    )
                )
        start += step
    return found


def _free_room(calendar, need, loc, block):
    """A free room of the kind needed, None when no room is needed, False when none is free."""
    if not need.room_kind:
        return None
    for room in calendar.rooms[loc.pk]:
        if _free(calendar.room_busy[room.pk], *block):
            return room
    return False
