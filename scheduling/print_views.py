"""The day's schedule on paper: one page per provider or per room of one location, each
visit in time order, in the location's zone, without buttons, navigation or forms.

    /desk/print/?location=<id>&date=YYYY-MM-DD&by=provider|room
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.core.bounds import parse_bounded_date
from clinic.core.ids import NOT_AN_ID
from clinic.users.access import staff_required
from sites.models import Location

from .models import HOLDS_TIME, Appointment
from .selectors import appointments_visible_to, local_now

GROUPINGS = {"provider": "provider", "room": "room"}


@dataclass
class Section:
    """One printed page: a provider's or a room's visits of the day, earliest first."""

    key: str
    title: str
    visits: list[Appointment] = field(default_factory=list)


def _location(location_id: str | None) -> Location:
    locations = Location.objects.filter(is_active=True)
    try:
        found = locations.get(pk=location_id) if location_id else locations.first()
    except (Location.DoesNotExist, *NOT_AN_ID):
        found = None
    if found is None:
        raise Http404
    return found


def _day(text: str | None, location: Location) -> date:
    if not text:
        return local_now(location).date()
    try:
        return parse_bounded_date(text)
    except ValueError:
        raise Http404 from None


def _visits(request: HttpRequest, location: Location, day: date) -> list[Appointment]:
    """The visits that hold time on the location's local day, in one query (read helper)."""
    zone = location.zone
    first = datetime.combine(day, time.min).replace(tzinfo=zone)
    last = datetime.combine(day + timedelta(days=1), time.min).replace(tzinfo=zone)
    return list(
        appointments_visible_to(request.user)
        .filter(location=location, start__gte=first, start__lt=last, status__in=HOLDS_TIME)
        .order_by("start", "pk")
    )


def _sections(visits: list[Appointment], by: str) -> list[Section]:
    sections: dict[str, Section] = {}
    for visit in visits:
        if by == "room":
            key = str(visit.room_id or "")
            title = visit.room.name if visit.room else "No room"
        else:
            key, title = str(visit.provider_id), visit.provider.display_name
        sections.setdefault(key, Section(key=key, title=title)).visits.append(visit)
    return sorted(sections.values(), key=lambda s: (s.key == "", s.title))


@staff_required
def print_day(request: HttpRequest) -> HttpResponse:
    """A day schedule per provider (or per room), one printed page each."""
    location = _location(request.GET.get("location"))
    day = _day(request.GET.get("date"), location)
    by = GROUPINGS.get(request.GET.get("by", ""), "provider")
    context: dict[str, Any] = {
        "location": location,
        "day": day,
        "by": by,
        "sections": _sections(_visits(request, location, day), by),
        "midday": datetime.combine(day, time(12)).replace(tzinfo=location.zone),
    }
    return render(request, "scheduling/print_day.html", context)
