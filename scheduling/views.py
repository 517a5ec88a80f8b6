"""The front desk's pages: the day board of one location and booking.

Views parse input, call services (writes) and selectors / availability (reads), and turn
domain errors into pages: ValidationFailed -> 400 with its messages, Conflict -> 409 with its
message (and the free alternatives for a taken slot). The few reads that selectors.py does not
offer are the private helpers marked "read helper" below.
"""

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from clinic.core.errors import Conflict, ValidationFailed
from clinic.core.forms import error_messages
from clinic.core.ids import NOT_AN_ID, parse_uuid
from clinic.users.access import staff_required
from clinic.users.actor import Actor
from patients.forms import add_service_errors
from patients.selectors import patient_for, patient_search
from sites.models import Location, Provider, Room

from . import services
from .availability import free_slots
from .forms import BookForm, MoveForm, RescheduleForm
from .localtime import to_aware
from .models import AppointmentKind, AppointmentStatus, AppointmentType
from .selectors import appointment_for, appointments_visible_to, local_now

staff_page = staff_required

FREE_SLOTS_SHOWN = 6
SEARCH_RESULTS = 10
DEFAULT_COLOR = "#0b5cad"
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# The buttons the board offers for each legal move; cancelling has its own form (a reason).
MOVE_LABELS = {
    AppointmentStatus.CHECKED_IN: "Check in",
    AppointmentStatus.IN_ROOM: "In room",
    AppointmentStatus.COMPLETED: "Complete",
    AppointmentStatus.NO_SHOW: "No-show",
}
MOVE_TARGETS = set(MOVE_LABELS) | {AppointmentStatus.CANCELLED}


# --- Read helpers (private; selectors.py has no day-of-location read yet) ----------------


def _active_locations() -> list[Location]:
    return list(Location.objects.filter(is_active=True))


def _location_for(location_id) -> Location:
    try:
        return Location.objects.get(pk=location_id, is_active=True)
    except (Location.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


def _day_bounds(location: Location, day: date) -> tuple[datetime, datetime]:
    zone = location.zone
    return (
        datetime.combine(day, time.min).replace(tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min).replace(tzinfo=zone),
    )


def _day_appointments(user, location: Location, day: date) -> list:
    """Every appointment starting on the location's local day, in one query."""
    first, last = _day_bounds(location, day)
    return list(
        appointments_visible_to(user)
        .filter(location=location, start__gte=first, start__lt=last)
        .order_by("start", "provider__last_name")
    )


def _slot_type() -> AppointmentType | None:
    """The follow-up type, or else the first patient-bookable one."""
    return (
        AppointmentType.objects.filter(is_active=True)
        .filter(Q(code="follow_up") | Q(kind=AppointmentKind.FOLLOW_UP) | Q(patient_bookable=True))
        .exclude(kind=AppointmentKind.PROCEDURE)
        .order_by(
            Case(
                When(code="follow_up", then=Value(0)),
                When(kind=AppointmentKind.FOLLOW_UP, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            "name",
        )
        .first()
    )


def _next_free_slots(location: Location, day: date, today: date):
    """The first free slots on the shown day (from today on) and the day after, as staff may
    book them (inside a type's notice period; only the past is closed)."""
    kind = _slot_type()
    if kind is None:
        return None, []
    first = max(day, today)
    slots = free_slots(
        appointment_type=kind,
        location=location,
        start_date=first,
        end_date=first + timedelta(days=1),
        limit=FREE_SLOTS_SHOWN,
        for_staff=True,
    )
    return kind, slots


# --- Board ------------------------------------------------------------------------------


def _board_url(location: Location, day: date | None = None) -> str:
    query = {"location": str(location.pk)}
    if day is not None:
        query["date"] = day.isoformat()
    return f"{reverse('scheduling:day-board')}?{urlencode(query)}"


def _parse_day(text: str | None, default: date) -> tuple[date, str | None]:
    if not text:
        return default, None
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return default, f"“{text[:20]}” is not a date (YYYY-MM-DD); showing today."


def _card(appointment, zone) -> dict:
    color = appointment.appointment_type.color
    moves = [
        (status, MOVE_LABELS[status])
        for status in MOVE_LABELS
        if status in services.TRANSITIONS[appointment.status]
    ]
    return {
        "appointment": appointment,
        "local_start": appointment.start.astimezone(zone),
        "local_end": appointment.end.astimezone(zone),
        "color": color if COLOR.match(color or "") else DEFAULT_COLOR,
        "moves": moves,
        "can_cancel": AppointmentStatus.CANCELLED in services.TRANSITIONS[appointment.status],
        "can_reschedule": appointment.status == AppointmentStatus.BOOKED,
        "holds_time": appointment.status
        not in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW),
    }


def _board_context(request, *, location_id=None, day_text=None) -> dict:
    locations = _active_locations()
    if not locations:
        return {"locations": [], "location": None}
    if location_id:
        location = next((loc for loc in locations if str(loc.pk) == str(location_id)), None)
        if location is None:
            raise Http404
    else:
        location = locations[0]
    zone = location.zone
    now = local_now(location)
    today = now.date()
    day, day_error = _parse_day(day_text, today)

    providers = list(Provider.objects.filter(is_active=True, locations=location))
    rooms = list(Room.objects.filter(is_active=True, location=location).order_by("name"))
    # Each column: its provider or room and the cards of its visits, in the board's order.
    provider_columns: dict[UUID, dict[str, Any]] = {
        p.pk: {"provider": p, "cards": []} for p in providers
    }
    room_columns: dict[UUID, dict[str, Any]] = {r.pk: {"room": r, "cards": []} for r in rooms}
    cards = [_card(a, zone) for a in _day_appointments(request.user, location, day)]
    for card in cards:
        appointment = card["appointment"]
        column = provider_columns.setdefault(
            appointment.provider_id, {"provider": appointment.provider, "cards": []}
        )
        column["cards"].append(card)
        if appointment.room_id:
            room_columns.setdefault(appointment.room_id, {"room": appointment.room, "cards": []})[
                "cards"
            ].append(card)
    slot_type, slots = _next_free_slots(location, day, today)
    return {
        "locations": locations,
        "location": location,
        "now": now,
        "day": day,
        "today": today,
        "previous_url": _board_url(location, day - timedelta(days=1)),
        "next_url": _board_url(location, day + timedelta(days=1)),
        "today_url": _board_url(location),
        "provider_columns": list(provider_columns.values()),
        "room_columns": list(room_columns.values()),
        "cards": cards,
        "no_shows": [c for c in cards if c["appointment"].status == AppointmentStatus.NO_SHOW],
        "slot_type": slot_type,
        "slots": slots,
        "book_url": f"{reverse('scheduling:book')}?{urlencode({'location': str(location.pk)})}",
        "day_error": day_error,
        "errors": [],
    }


@staff_page
def day_board(request):
    """One location's day: a column per provider and per room, no-shows and free slots."""
    context = _board_context(
        request, location_id=request.GET.get("location"), day_text=request.GET.get("date")
    )
    return render(request, "scheduling/day_board.html", context)


def _error_messages(exc: ValidationFailed) -> list[str]:
    found = []
    for field, texts in exc.fields.items():
        for text in texts if isinstance(texts, list | tuple) else [texts]:
            found.append(str(text) if field in ("reason", "start") else f"{field}: {text}")
    return found or [exc.detail]


def _board_error(request, appointment, errors: list[str], status: int, focus: str = ""):
    """The board of the appointment's day again, with what went wrong on top."""
    day = appointment.start.astimezone(appointment.location.zone).date()
    context = _board_context(request, location_id=appointment.location_id, day_text=day.isoformat())
    context["errors"] = errors
    context["error_target"] = focus
    context["open_id"] = appointment.pk if focus else None
    context["open_kind"] = focus.split("-")[0]
    return render(request, "scheduling/day_board.html", context, status=status)


def _alternative_text(alternatives: list[dict], location: Location) -> str:
    if not alternatives:
        return ""
    names = _alternative_rows(alternatives, location)
    return "Free nearby: " + "; ".join(
        f"{row['local_start']:%a %b %d, %I:%M %p} with {row['provider']}" for row in names
    )


@staff_page
@require_POST
def appointment_move(request, appointment_id):
    appointment = appointment_for(request.user, appointment_id)
    form = MoveForm(request.POST)
    if not form.is_valid() or form.cleaned_data["to"] not in MOVE_TARGETS:
        return _board_error(request, appointment, ["Choose one of the board's actions."], 400)
    to = form.cleaned_data["to"]
    try:
        moved = services.appointment_move(
            appointment=appointment,
            to=to,
            by=Actor.desk(request.user),
            reason=form.cleaned_data["reason"],
        )
    except ValidationFailed as exc:
        target = f"cancel-reason-{appointment.pk}" if to == AppointmentStatus.CANCELLED else ""
        return _board_error(request, appointment, _error_messages(exc), 400, target)
    except Conflict as exc:
        return _board_error(request, appointment, [exc.detail], 409)
    messages.success(
        request,
        f"{appointment.patient.full_name}: {moved.get_status_display().lower()}.",
    )
    day = appointment.start.astimezone(appointment.location.zone).date()
    return redirect(_board_url(appointment.location, day))


@staff_page
@require_POST
def appointment_reschedule(request, appointment_id):
    appointment = appointment_for(request.user, appointment_id)
    form = RescheduleForm(request.POST)
    target = f"reschedule-start-{appointment.pk}"
    if not form.is_valid():
        errors = error_messages(form)
        return _board_error(request, appointment, errors, 400, target)
    location = appointment.location
    try:
        start = to_aware(form.cleaned_data["start"], location.zone)
        moved = services.appointment_reschedule(
            appointment=appointment, start=start, by=Actor.desk(request.user)
        )
    except ValidationFailed as exc:
        return _board_error(request, appointment, _error_messages(exc), 400, target)
    except Conflict as exc:
        errors = [exc.detail]
        nearby = _alternative_text(exc.extra.get("alternatives") or [], location)
        if nearby:
            errors.append(nearby)
        return _board_error(request, appointment, errors, 409, target)
    local_start = moved.start.astimezone(location.zone)
    messages.success(
        request,
        f"{appointment.patient.full_name} moved to {local_start:%a %b %d, %I:%M %p}.",
    )
    return redirect(_board_url(location, local_start.date()))


# --- Booking ----------------------------------------------------------------------------


def _alternative_rows(alternatives: list[dict], location: Location) -> list[dict]:
    """Conflict alternatives (ids and ISO times) as people read them (read helper: two
    queries, whatever the number of alternatives)."""
    providers = Provider.objects.in_bulk([a["provider"] for a in alternatives])
    rooms = Room.objects.in_bulk([a["room"] for a in alternatives if a.get("room")])
    rows = []
    for alternative in alternatives:
        local_start = datetime.fromisoformat(alternative["start"]).astimezone(location.zone)
        provider = providers.get(parse_uuid(alternative["provider"]))
        room = rooms.get(parse_uuid(alternative.get("room")))
        rows.append(
            {
                "local_start": local_start,
                "local_end": datetime.fromisoformat(alternative["end"]).astimezone(location.zone),
                "provider": provider.display_name if provider else "another provider",
                "provider_id": alternative["provider"],
                "room": room.name if room else "",
                "room_id": alternative.get("room") or "",
                "start_value": f"{local_start:%Y-%m-%dT%H:%M}",
            }
        )
    return rows


PREFILL = ("appointment_type", "provider", "room", "start", "patient")


@staff_page
@require_http_methods(["GET", "POST"])
def book(request):
    """Find the patient, choose the visit and its time, book it; a taken slot offers the
    free ones nearby."""
    data = request.POST if request.method == "POST" else request.GET
    locations = _active_locations()
    if not locations:
        return render(request, "scheduling/book.html", {"location": None, "locations": []})
    location = _location_for(data["location"]) if data.get("location") else locations[0]
    query = data.get("q", "").strip()
    results = list(patient_search(query=query)[:SEARCH_RESULTS]) if query else []
    alternatives = []
    status = 200
    if request.method == "POST":
        form = BookForm(request.POST, location=location)
        patient = None
        if form.is_valid():
            try:
                patient = patient_for(request.user, form.cleaned_data["patient"])
            except Http404:
                form.add_error("patient", "Choose a patient from the search results.")
        if patient is not None and patient.pk not in {p.pk for p in results}:
            results.insert(0, patient)
        if form.is_valid() and patient is not None:  # a patient not found made it invalid
            cleaned = form.cleaned_data
            try:
                appointment = services.appointment_book(
                    patient=patient,
                    appointment_type=cleaned["appointment_type"],
                    provider=cleaned["provider"],
                    location=location,
                    room=cleaned["room"],
                    start=to_aware(cleaned["start"], location.zone),
                    by=Actor.desk(request.user),
                )
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.detail)
                alternatives = _alternative_rows(exc.extra.get("alternatives") or [], location)
                status = 409
            else:
                local_start = appointment.start.astimezone(location.zone)
                messages.success(
                    request,
                    f"Booked {patient.full_name} for {local_start:%a %b %d, %I:%M %p} "
                    f"with {appointment.provider.display_name}.",
                )
                return redirect(_board_url(location, local_start.date()))
        if status == 200:
            status = 400
    else:
        form = BookForm(
            location=location,
            initial={name: request.GET[name] for name in PREFILL if request.GET.get(name)},
        )
    chosen = str(form["patient"].value() or "")
    context = {
        "locations": locations,
        "location": location,
        "form": form,
        "query": query,
        "results": results,
        "chosen": chosen,
        "alternatives": alternatives,
        "board_url": _board_url(location),
    }
    return render(request, "scheduling/book.html", context, status=status)
