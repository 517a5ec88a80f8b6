"""The front desk's calendar: the page, the JSON window it reads every few seconds, and the
JSON move a drag makes (through services.appointment_reschedule).

`GET /desk/calendar/events/?location=&start=&end=&by=provider|room|day[&provider=]` answers
the window's resources and events (scheduling.calendar_selectors); `POST
/desk/calendar/move/` with `{"appointment", "start" (local wall clock), "provider", "room"}`
moves a visit: 200 with the visit before and after (so the page can undo it), 409 with the
free alternatives, 400 naming the field. Both are for staff only.
"""

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from clinic.core.bounds import parse_bounded_date
from clinic.core.errors import Conflict, ValidationFailed, error_body
from clinic.core.ids import parse_uuid
from clinic.core.times import short_zone_name
from clinic.users.access import staff_required
from clinic.users.actor import Actor
from clinic.users.roles import CLINICAL_ROLES
from sites.models import Location, Provider, Room

from . import services
from .alternatives import ISO_LOCAL, alternative_rows, when_label
from .calendar_selectors import BY_CHOICES, MAX_WINDOW_DAYS, Window, calendar_window
from .localtime import to_aware
from .models import Appointment
from .selectors import appointment_for, local_now

VIEWS = ("day", "week", "month")

# --- Read helpers (private; the page's own small reads) --------------------------------------


def _active_locations() -> list[Location]:
    return list(Location.objects.filter(is_active=True))


def _board_url(location: Location, day: date | None = None) -> str:
    query = {"location": str(location.pk)}
    if day is not None:
        query["date"] = day.isoformat()
    return f"{reverse('scheduling:day-board')}?{urlencode(query)}"


def _print_url(location: Location, day: date, by: str) -> str:
    """The printed schedule of the shown day, one page per provider or per room."""
    query = {"location": str(location.pk), "date": day.isoformat(), "by": by}
    return f"{reverse('scheduling:print-day')}?{urlencode(query)}"


def _parse_day(text: str | None, default: date) -> tuple[date, str | None]:
    if not text:
        return default, None
    try:
        return parse_bounded_date(text), None
    except ValueError:
        return default, f"“{text[:20]}” is not a date (YYYY-MM-DD); showing today."


# --- The page ------------------------------------------------------------------------------------


def _board_context(request, *, location_id=None, day_text=None) -> dict:
    """The calendar page of a location and day (the events come from the JSON window)."""
    locations = _active_locations()
    if not locations:
        return {"locations": [], "location": None}
    if location_id:
        location = next((loc for loc in locations if str(loc.pk) == str(location_id)), None)
        if location is None:
            raise Http404
    else:
        location = locations[0]
    now = local_now(location)
    day, day_error = _parse_day(day_text, now.date())
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "day"
    by = request.GET.get("by") if request.GET.get("by") in ("provider", "room") else "provider"
    # The first day's window comes with the page (the script then polls for changes).
    window = Window(location=location, start=day, end=day + timedelta(days=1), by=by)
    initial = _window_body(window) if view == "day" else None
    return {
        "initial_window": initial,
        "locations": locations,
        "location": location,
        "providers": list(Provider.objects.filter(is_active=True, locations=location)),
        "now": now,
        "zone_name": short_zone_name(now),
        "day": day,
        "today": now.date(),
        "view": view,
        "by": by,
        "day_error": day_error,
        "events_url": reverse("scheduling:calendar-events"),
        "move_url": reverse("scheduling:calendar-move"),
        "book_url": reverse("scheduling:book"),
        "print_url": _print_url(location, day, by),
        "today_url": _board_url(location),
        "previous_url": _board_url(location, day - timedelta(days=1)),
        "next_url": _board_url(location, day + timedelta(days=1)),
        "can_record": request.user.has_role(*CLINICAL_ROLES),
    }


@staff_required
def day_board(request):
    """One location's calendar: a column per provider (or room) for a day, a provider's week,
    a month of daily loads; visits move by drag and drop, and the page refreshes its events
    every few seconds."""
    context = _board_context(
        request, location_id=request.GET.get("location"), day_text=request.GET.get("date")
    )
    return render(request, "scheduling/day_board.html", context)


# --- JSON ----------------------------------------------------------------------------------------


def _json_error(status: int, code: str, detail: str, fields: dict | None = None, **extra):
    return JsonResponse(error_body(code, detail, fields, **extra), status=status)


def staff_json(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """JSON views for staff: 401 when signed out, 403 for another role (never a redirect)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return _json_error(401, "not_authenticated", "Sign in first.")
        if not getattr(user, "is_clinic_staff", False):
            return _json_error(403, "permission_denied", "The calendar is for the clinic's staff.")
        return view(request, *args, **kwargs)

    return wrapper


def _date_param(data, name: str) -> date:
    text = (data.get(name) or "").strip()
    try:
        return parse_bounded_date(text[:10])
    except ValueError:
        raise ValidationFailed({name: ["Give a date as YYYY-MM-DD, from 1900 to 2200."]}) from None


def _location_param(data) -> Location:
    location_id = parse_uuid(data.get("location"))
    location = (
        Location.objects.filter(pk=location_id, is_active=True).first() if location_id else None
    )
    if location is None:
        raise ValidationFailed({"location": ["Choose one of the clinic's active locations."]})
    return location


def _provider_param(data, location: Location, name: str = "provider") -> Provider | None:
    if not data.get(name):
        return None
    provider_id = parse_uuid(data.get(name))
    provider = (
        Provider.objects.filter(pk=provider_id, is_active=True, locations=location).first()
        if provider_id
        else None
    )
    if provider is None:
        raise ValidationFailed({name: ["Choose a provider who works at this location."]})
    return provider


def _window(data) -> Window:
    location = _location_param(data)
    start, end = _date_param(data, "start"), _date_param(data, "end")
    if end <= start:
        raise ValidationFailed({"end": ["The end comes after the start."]})
    if (end - start).days > MAX_WINDOW_DAYS:
        raise ValidationFailed({"end": [f"Ask for at most {MAX_WINDOW_DAYS} days at once."]})
    by = data.get("by") or "provider"
    if by not in BY_CHOICES:
        raise ValidationFailed({"by": [f"Choose one of: {', '.join(BY_CHOICES)}."]})
    provider = _provider_param(data, location)
    return Window(location=location, start=start, end=end, by=by, provider=provider)


def _window_body(window: Window) -> dict[str, Any]:
    now = local_now(window.location)
    return {
        "location": str(window.location.pk),
        "zone": window.location.time_zone,
        "zone_name": short_zone_name(now),
        "now": now.strftime(ISO_LOCAL),
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "by": window.by,
        **calendar_window(window),
    }


@staff_json
@require_GET
def calendar_events(request):
    """The calendar's window as JSON (the page polls it every few seconds)."""
    try:
        window = _window(request.GET)
    except ValidationFailed as exc:
        return _json_error(400, "invalid", exc.detail, exc.fields)
    response = JsonResponse(_window_body(window))
    response["Cache-Control"] = "no-store"
    return response


def _body(request) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed({}, detail="Send a JSON object.") from None
    if not isinstance(data, dict):
        raise ValidationFailed({}, detail="Send a JSON object.")
    return data


def _start_param(data, location: Location) -> datetime:
    text = str(data.get("start") or "").strip()
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({"start": ["Give the new start as YYYY-MM-DDTHH:MM."]}) from None
    return to_aware(start.replace(tzinfo=None), location.zone)


def _room_param(data, location: Location) -> Room | None:
    if not data.get("room"):
        return None
    room_id = parse_uuid(data.get("room"))
    room = (
        Room.objects.filter(pk=room_id, is_active=True, location=location).first()
        if room_id
        else None
    )
    if room is None:
        raise ValidationFailed({"room": ["Choose a room of this location."]})
    return room


def _placement(appointment: Appointment) -> dict[str, str]:
    location = appointment.location
    return {
        "appointment": str(appointment.pk),
        "start": appointment.start.astimezone(location.zone).strftime(ISO_LOCAL),
        "provider": str(appointment.provider_id),
        "room": str(appointment.room_id or ""),
    }


@staff_json
@require_POST
def calendar_move(request):
    """Move a visit to another time, provider or room (a drag, or the undo of one)."""
    try:
        data = _body(request)
        appointment = appointment_for(request.user, data.get("appointment"))
        location = appointment.location
        before = _placement(appointment)
        start = _start_param(data, location)
        provider = _provider_param(data, location)
        room = _room_param(data, location)
        moved = services.appointment_reschedule(
            appointment=appointment,
            start=start,
            provider=provider,
            room=room,
            by=Actor.desk(request.user),
        )
    except Http404:
        return _json_error(404, "not_found", "No such visit.", {"appointment": ["Not found."]})
    except ValidationFailed as exc:  # a time not offered names the nearest offered ones
        offered = exc.extra.get("alternatives") or []
        alternatives = alternative_rows(offered, appointment.location) if offered else []
        return _json_error(400, exc.code, exc.detail, exc.fields, alternatives=alternatives)
    except Conflict as exc:
        extra = {k: v for k, v in exc.extra.items() if k != "alternatives"}
        alternatives = alternative_rows(exc.extra.get("alternatives") or [], location)
        return _json_error(409, exc.code, exc.detail, alternatives=alternatives, **extra)
    after = _placement(moved)
    local_start = moved.start.astimezone(location.zone)
    return JsonResponse(
        {
            "before": before,
            "after": after,
            "detail": f"{moved.patient.full_name} moved to {when_label(local_start)} "
            f"{short_zone_name(local_start)} with {moved.provider.display_name}.",
        }
    )
