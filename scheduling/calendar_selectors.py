"""Reads of the front desk's calendar: one location's window of days as EventCalendar's
resources and events (visits, working hours, closed time, schedule exceptions), or each
day's load for the month view.

Times go out as floating local ISO strings ("2026-12-04T09:00:00") in the location's zone:
the page shows the location's wall clock whatever the browser's zone. The number of queries
is fixed: it does not grow with the visits, the providers or the days (asserted in
scheduling/tests/test_calendar_window.py).
"""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.db.models import Min, OuterRef, Subquery, prefetch_related_objects
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from notifications.models import InboundText, ReplyOutcome
from patients.models import UrgentFlag
from procedures.models import AuthStatus, OrderStatus
from sites.models import Location, Provider, Room

from .availability import Calendar, local
from .models import Appointment, AppointmentKind, AppointmentStatus, ExceptionKind
from .selectors import RELEASES, RESCHEDULED, undo_possible, visit_waits
from .services import TRANSITIONS

MAX_WINDOW_DAYS = 42  # a month view shows six weeks
BY_CHOICES = ("provider", "room", "day")
DEFAULT_COLOR = "#0b5cad"
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
MOVE_LABELS = {
    AppointmentStatus.CHECKED_IN: "Check in",
    AppointmentStatus.IN_ROOM: "In room",
    AppointmentStatus.COMPLETED: "Complete",
    AppointmentStatus.NO_SHOW: "No-show",
    AppointmentStatus.CANCELLED: "Cancel",
}
HOLD_AHEAD_DAYS = 14  # a hold that starts within this many days of a visit is flagged on it
ISO = "%Y-%m-%dT%H:%M:%S"
# What a card shows, and nothing more (the patient row is wide; reading less halves the time).
VISIT_COLUMNS = (
    "id",
    "patient_id",
    "provider_id",
    "room_id",
    "location_id",
    "appointment_type_id",
    "procedure_order_id",
    "start",
    "end",
    "status",
    "cancel_reason",
    "overbooked",
    "overbook_reason",
    "checked_in_at",
    "in_room_at",
    "completed_at",
    "patient__mrn",
    "patient__legal_first_name",
    "patient__preferred_name",
    "patient__legal_last_name",
    "appointment_type__name",
    "appointment_type__color",
    "provider__first_name",
    "provider__last_name",
    "provider__credentials",
    "provider__kind",
    "room__name",
    "procedure_order__auth_status",
    "procedure_order__status",
)
BACKGROUNDS = {"hours": "#e3eefa", "closed": "#e4e7ec", "time-off": "#fbe8d3"}


@dataclass(frozen=True)
class Window:
    """What the calendar asks for: a location, local days [start, end) and its columns."""

    location: Location
    start: date
    end: date
    by: str = "provider"
    provider: Provider | None = None

    @property
    def first(self) -> datetime:
        return local(self.start, time.min, self.location.zone)

    @property
    def last(self) -> datetime:
        return local(self.end, time.min, self.location.zone)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days)]


def _floating(moment: datetime, location: Location) -> str:
    return moment.astimezone(location.zone).strftime(ISO)


def _color(value: str) -> str:
    return value if COLOR.match(value or "") else DEFAULT_COLOR


PLACEHOLDER = UUID(int=0)


@lru_cache(maxsize=16)
def _url_pattern(name: str) -> str | None:
    """The URL of a view taking one id, with a placeholder for the id (reversing it once per
    visit was a third of the window's time)."""
    try:
        return reverse(name, args=[PLACEHOLDER])
    except NoReverseMatch:
        return None


def _url(name: str, pk) -> str | None:
    pattern = _url_pattern(name)
    return pattern.replace(str(PLACEHOLDER), str(pk)) if pattern else None


# --- The reads (each one query) -----------------------------------------------------------


def _providers(window: Window) -> list[Provider]:
    providers = Provider.objects.filter(is_active=True, locations=window.location)
    if window.provider is not None:
        providers = providers.filter(pk=window.provider.pk)
    return list(providers.order_by("last_name", "first_name"))


def _rooms(window: Window) -> list[Room]:
    return list(Room.objects.filter(is_active=True, location=window.location).order_by("name"))


def _visits(window: Window) -> list[Appointment]:
    """The window's visits, the cancellations by a reschedule left out (the new row shows)."""
    visits = (
        Appointment.objects.filter(
            location=window.location, start__gte=window.first, start__lt=window.last
        )
        .exclude(status=AppointmentStatus.CANCELLED, cancel_reason=RESCHEDULED)
        .select_related("patient", "appointment_type", "provider", "room", "procedure_order")
        .only(*VISIT_COLUMNS)
        .annotate(call_requested_at=_call_requested_at())
        .order_by("start")
    )
    if window.provider is not None:
        visits = visits.filter(provider=window.provider)
    found: list[Appointment] = list(visits)
    for visit in found:
        visit.location = window.location  # all of the window's location, loaded once
    # Whether a no-show or a cancellation can be undone reads its logged moves: one query for
    # the released visits only (prefetching for every visit cost more than the rest).
    prefetch_related_objects([v for v in found if v.status in RELEASES], "status_changes")
    return found


def _call_requested_at() -> Subquery:
    """When the patient last asked by text (replying R) for a call about the visit."""
    requests = InboundText.objects.filter(
        subject_id=OuterRef("pk"), outcome=ReplyOutcome.CALL_REQUESTED
    ).order_by("-received_at")
    return Subquery(requests.values("received_at")[:1])


def _urgent_patients(patient_ids: set[UUID]) -> set[UUID]:
    """Patients with a danger sign (a red flag, PHQ-9 item 9) no clinician has acknowledged
    yet, whichever path raised it (patients/urgent.py)."""
    return set(
        UrgentFlag.objects.filter(
            patient__in=patient_ids, acknowledged_at__isnull=True
        ).values_list("patient_id", flat=True)
    )


def _first_completed(patient_ids: set[UUID]) -> dict[UUID, datetime]:
    rows = (
        Appointment.objects.filter(patient__in=patient_ids, status=AppointmentStatus.COMPLETED)
        .values("patient_id")
        .annotate(first=Min("start"))
    )
    return {row["patient_id"]: row["first"] for row in rows}


def _hold_starts(patient_ids: set[UUID], window: Window) -> dict[UUID, list[tuple[date, date]]]:
    """For each patient, (hold start, procedure day) of their booked procedures from the
    window on whose safety check at booking set a medication hold."""
    found: dict[UUID, list[tuple[date, date]]] = defaultdict(list)
    procedures = Appointment.objects.filter(
        patient__in=patient_ids,
        status=AppointmentStatus.BOOKED,
        start__gte=window.first,
        start__lt=window.last + timedelta(days=HOLD_AHEAD_DAYS),
        appointment_type__kind=AppointmentKind.PROCEDURE,
    ).values_list("patient_id", "start", "findings")
    zone = window.location.zone
    for patient_id, start, findings in procedures:
        for finding in findings or []:
            hold_start = (finding.get("details") or {}).get("hold_start")
            if hold_start:
                found[patient_id].append(
                    (date.fromisoformat(hold_start), start.astimezone(zone).date())
                )
    return found


# --- Shaping ---------------------------------------------------------------------------------


@dataclass
class Facts:
    """What the flags and the undo button need, read once for the whole window."""

    urgent: set[UUID]
    first_completed: dict[UUID, datetime]
    holds: dict[UUID, list[tuple[date, date]]]
    now: datetime


def _facts(visits: list[Appointment], window: Window) -> Facts:
    patients = {v.patient_id for v in visits}
    if not patients:
        return Facts(set(), {}, {}, timezone.now())
    return Facts(
        urgent=_urgent_patients(patients),
        first_completed=_first_completed(patients),
        holds=_hold_starts(patients, window),
        now=timezone.now(),
    )


def _hold_flag(visit: Appointment, facts: Facts, zone) -> dict | None:
    day = visit.start.astimezone(zone).date()
    for hold_start, procedure_day in sorted(facts.holds.get(visit.patient_id, [])):
        if day <= procedure_day and hold_start <= day + timedelta(days=HOLD_AHEAD_DAYS):
            when = "today" if hold_start == day else f"{hold_start:%b} {hold_start.day}"
            return {
                "code": "hold",
                "label": f"Medication hold from {when}",
                "short": "Hold",
            }
    return None


def _flags(visit: Appointment, facts: Facts, zone) -> list[dict]:
    flags = []
    if visit.patient_id in facts.urgent:
        flags.append(
            {
                "code": "urgent",
                "label": "Urgent: a clinician must see the danger sign",
                "short": "Urgent",
            }
        )
    hold = _hold_flag(visit, facts, zone)
    if hold:
        flags.append(hold)
    order = visit.procedure_order
    if order is not None and order.auth_status in (AuthStatus.PENDING, AuthStatus.REQUESTED):
        flags.append(
            {"code": "auth", "label": "Prior authorization pending", "short": "Auth pending"}
        )
    asked = getattr(visit, "call_requested_at", None)
    if asked is not None:
        at = asked.astimezone(zone)
        flags.append(
            {
                "code": "call",
                "label": f"Asked by text for a call ({at:%b} {at.day}, {at:%-I:%M %p})",
                "short": "Call back",
            }
        )
    first = facts.first_completed.get(visit.patient_id)
    if first is None or first >= visit.start:
        flags.append({"code": "first", "label": "First visit", "short": "New"})
    if visit.overbooked:
        flags.append(
            {
                "code": "overbooked",
                "label": f"Overbooked: {visit.overbook_reason}",
                "short": "Overbooked",
            }
        )
    return flags


def _waits(visit: Appointment, location: Location, now: datetime) -> dict | None:
    """Arrived -> in room -> done: the stamps on the location's clock and the minutes
    between them (a wait still going counts up to now)."""
    if visit.checked_in_at is None:
        return None
    waits = visit_waits(visit, now)

    def clock(moment: datetime | None) -> str | None:
        return moment.astimezone(location.zone).strftime("%H:%M") if moment else None

    return {
        "arrived": clock(visit.checked_in_at),
        "in_room": clock(visit.in_room_at),
        "done": clock(visit.completed_at),
        "waited": waits.waiting,
        "in_room_minutes": waits.in_room,
    }


def _visit_event(visit: Appointment, window: Window, facts: Facts) -> dict[str, Any]:
    location = window.location
    color = _color(visit.appointment_type.color)
    holds_time = visit.status not in RELEASES
    resource = visit.room_id if window.by == "room" else visit.provider_id
    flags = _flags(visit, facts, location.zone)
    return {
        "id": str(visit.pk),
        "resourceIds": [str(resource)] if resource else [],
        "start": _floating(visit.start, location),
        "end": _floating(visit.end, location),
        "title": visit.patient.full_name,
        "editable": visit.status == AppointmentStatus.BOOKED,
        "classNames": [
            "visit",
            f"status-{visit.status}",
            *([] if holds_time else ["visit-released"]),
            *(f"flag-{flag['code']}" for flag in flags),
        ],
        "extendedProps": {
            "kind": "visit",
            "patient": visit.patient.full_name,
            "mrn": visit.patient.mrn,
            "chart_url": _url("patients:chart", visit.patient_id),
            "visit_type": visit.appointment_type.name,
            "color": color,
            "status": visit.status,
            "status_label": visit.get_status_display(),
            "provider": visit.provider.display_name,
            "provider_id": str(visit.provider_id),
            "room": visit.room.name if visit.room else "",
            "room_id": str(visit.room_id) if visit.room_id else "",
            "flags": flags,
            "overbook_reason": visit.overbook_reason if visit.overbooked else "",
            "waits": _waits(visit, location, facts.now),
            "moves": [
                {"to": to, "label": label}
                for to, label in MOVE_LABELS.items()
                if to in TRANSITIONS[visit.status]
            ],
            "can_undo": visit.status in RELEASES and undo_possible(visit, facts.now),
            "move_url": _url("scheduling:appointment-move", visit.pk),
            "undo_url": _url("scheduling:appointment-undo", visit.pk),
            "record_url": _record_url(visit),
        },
    }


def _record_url(visit: Appointment) -> str:
    """The procedure record form, opened from this visit, while its order waits to be
    recorded (the page shows the link to clinicians only)."""
    order = visit.procedure_order
    if order is None or order.status != OrderStatus.SCHEDULED or visit.status in RELEASES:
        return ""
    path = _url("procedures:record-create", order.pk)
    return f"{path}?visit={visit.pk}" if path else ""


# --- Background: hours, closed time, exceptions -----------------------------------------------


def _background(title: str, css: str, start: datetime, end: datetime, window, ids) -> dict:
    return {
        "start": _floating(start, window.location),
        "end": _floating(end, window.location),
        "display": "background",
        "backgroundColor": BACKGROUNDS[css],
        "title": title,
        "resourceIds": [str(i) for i in ids],
        "classNames": [css],
        "extendedProps": {"kind": css},
    }


def _closed_spans(calendar: Calendar, window: Window, day: date) -> list[tuple]:
    """The day's time outside the location's opening hours (all of it on a closed day)."""
    location, zone = window.location, window.location.zone
    midnight, next_midnight = local(day, time.min, zone), local(day + timedelta(1), time.min, zone)
    if location.pk not in calendar.has_opening_hours:
        return []
    spans = sorted(
        (local(day, o.opens, zone), local(day, o.closes, zone))
        for o in calendar.opening[(location.pk, day.weekday())]
    )
    closed, cursor = [], midnight
    for opens, closes in spans:
        if opens > cursor:
            closed.append((cursor, opens))
        cursor = max(cursor, closes)
    if cursor < next_midnight:
        closed.append((cursor, next_midnight))
    return closed


def _exception_events(calendar: Calendar, window: Window, day: date, ids: list) -> list[dict]:
    zone, events = window.location.zone, []
    for exception in calendar.exceptions:
        if exception.date != day:
            continue
        start = local(day, exception.start_time or time.min, zone)
        end = (
            local(day, exception.end_time, zone)
            if exception.end_time
            else local(day + timedelta(1), time.min, zone)
        )
        label = exception.note or exception.get_kind_display()
        if exception.kind == ExceptionKind.HOLIDAY and exception.location_id == window.location.pk:
            events.append(_background(label, "closed", start, end, window, ids))
        elif (
            exception.kind == ExceptionKind.TIME_OFF
            and window.by == "provider"
            and str(exception.provider_id) in {str(i) for i in ids}
        ):
            events.append(
                _background(label, "time-off", start, end, window, [exception.provider_id])
            )
    return events


def _background_events(
    calendar: Calendar, window: Window, providers: list[Provider], resource_ids: list
) -> list[dict]:
    events = []
    for day in window.days():
        if window.by == "provider":
            for provider in providers:
                for start, end in calendar.sessions(provider, window.location, day):
                    events.append(_background("Hours", "hours", start, end, window, [provider.pk]))
        for start, end in _closed_spans(calendar, window, day):
            events.append(_background("Closed", "closed", start, end, window, resource_ids))
        events += _exception_events(calendar, window, day, resource_ids)
    return events


def _slot_range(calendar: Calendar, window: Window, visits: list[Appointment]) -> dict[str, str]:
    """The grid's first and last hour: the opening hours, widened to show every visit."""
    hours = [o for (loc, _), rows in calendar.opening.items() for o in rows]
    first = min([o.opens for o in hours], default=time(7))
    last = max([o.closes for o in hours], default=time(19))
    zone = window.location.zone
    for visit in visits:
        start, end = visit.start.astimezone(zone), visit.end.astimezone(zone)
        first = min(first, start.time().replace(minute=0, second=0))
        last = time(23, 59) if end.date() > start.date() else max(last, end.time())
    last_hour = min(24, last.hour + (1 if last.minute or last.second else 0))
    return {"min": f"{first.hour:02d}:00", "max": f"{last_hour:02d}:00"}


# --- The window --------------------------------------------------------------------------------


def _day_loads(window: Window, visits: list[Appointment], calendar: Calendar) -> list[dict]:
    counts: Counter[date] = Counter()
    overbooked: Counter[date] = Counter()
    zone = window.location.zone
    for visit in visits:
        if visit.status in RELEASES:
            continue
        day = visit.start.astimezone(zone).date()
        counts[day] += 1
        overbooked[day] += visit.overbooked
    events = []
    for day in window.days():
        if counts[day]:
            extra = f", {overbooked[day]} overbooked" if overbooked[day] else ""
            events.append(
                {
                    "start": day.isoformat(),
                    "end": (day + timedelta(days=1)).isoformat(),
                    "allDay": True,
                    "title": f"{counts[day]} visit{'s' if counts[day] != 1 else ''}{extra}",
                    "classNames": ["day-load"],
                    "extendedProps": {"kind": "load", "count": counts[day], "date": str(day)},
                }
            )
        closed = [e for e in calendar.exceptions if e.date == day and e.kind == "holiday"]
        if closed:
            events.append(
                {
                    "start": day.isoformat(),
                    "end": (day + timedelta(days=1)).isoformat(),
                    "allDay": True,
                    "display": "background",
                    "backgroundColor": BACKGROUNDS["closed"],
                    "classNames": ["closed"],
                    "extendedProps": {"kind": "closed"},
                }
            )
    return events


def _column_title(visit: Appointment, by: str) -> str:
    if by == "room":
        return visit.room.name if visit.room else "No room"
    return visit.provider.display_name


def _add_missing_columns(
    resources: list[dict], events: list[dict], visits: list[Appointment], window: Window
) -> None:
    """A visit of an inactive provider or room keeps a column; one without a room goes to
    a "No room" column in the room view."""
    known = {r["id"] for r in resources}
    for event, visit in zip(events, visits, strict=True):
        if not event["resourceIds"]:
            event["resourceIds"] = ["none"]
        for resource_id in event["resourceIds"]:
            if resource_id not in known:
                title = "No room" if resource_id == "none" else _column_title(visit, window.by)
                resources.append({"id": resource_id, "title": title})
                known.add(resource_id)


def calendar_window(window: Window) -> dict[str, Any]:
    """Resources and events of the window in a fixed number of queries (10 for a day by
    provider with a no-show or cancellation in it, 9 without): providers (rooms), visits and
    the logged moves of the released ones (for undo), the availability
    Calendar's opening hours, working hours, exceptions and busy times (unused here), then,
    when there are visits, urgent intakes, first completed visits and procedures with holds."""
    providers = _providers(window)
    rooms = _rooms(window) if window.by == "room" else []
    visits = _visits(window)
    calendar = Calendar(
        providers=providers,
        locations=[window.location],
        start_date=window.start,
        end_date=window.end - timedelta(days=1),
        room_kind="",
    )
    if window.by == "day":
        return {"resources": [], "events": _day_loads(window, visits, calendar)}
    columns: list[Provider | Room] = [*rooms] if window.by == "room" else [*providers]
    resources = [
        {"id": str(c.pk), "title": c.display_name if isinstance(c, Provider) else c.name}
        for c in columns
    ]
    facts = _facts(visits, window)
    events = [_visit_event(visit, window, facts) for visit in visits]
    _add_missing_columns(resources, events, visits, window)
    ids = [r["id"] for r in resources]
    events += _background_events(calendar, window, providers, ids)
    return {
        "resources": resources,
        "events": events,
        "slots": _slot_range(calendar, window, visits),
    }
