"""The front desk's pages: the status moves of the day board (whose page is in
board_views.py; booking is in book_views.py).

Views parse input, call services (writes) and selectors / availability (reads), and turn
domain errors into pages: ValidationFailed -> 400 with its messages, Conflict -> 409 with its
message (and the free alternatives for a taken slot). The few reads that selectors.py does not
offer are the private helpers marked "read helper" below.
"""

from datetime import date, datetime, timedelta

from django.contrib import messages
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clinic.core.errors import Conflict, ValidationFailed
from clinic.core.forms import error_messages
from clinic.core.ids import NOT_AN_ID, parse_uuid
from clinic.users.access import staff_required
from clinic.users.actor import Actor
from sites.models import Location, Provider, Room

from . import services
from .availability import free_slots
from .board_views import _board_context, _board_url
from .forms import MoveForm, RescheduleForm
from .localtime import to_aware
from .models import AppointmentKind, AppointmentStatus, AppointmentType
from .selectors import (
    appointment_for,
)

staff_page = staff_required

FREE_SLOTS_SHOWN = 6
# The buttons the board offers for each legal move; cancelling has its own form (a reason).
MOVE_LABELS = {
    AppointmentStatus.CHECKED_IN: "Check in",
    AppointmentStatus.IN_ROOM: "In room",
    AppointmentStatus.COMPLETED: "Complete",
    AppointmentStatus.NO_SHOW: "No-show",
}
MOVE_TARGETS = set(MOVE_LABELS) | {AppointmentStatus.CANCELLED}


# --- Read helpers (private; selectors.py has no day-of-location read yet) ----------------


def _location_for(location_id) -> Location:
    try:
        return Location.objects.get(pk=location_id, is_active=True)
    except (Location.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


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


# --- Board (the page and its reads are in board_views.py) -------------------------------


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
def appointment_undo(request, appointment_id):
    """Undo a no-show or a cancellation from the board (the same day, the slot still free)."""
    appointment = appointment_for(request.user, appointment_id)
    try:
        restored = services.appointment_undo(appointment=appointment, by=Actor.desk(request.user))
    except Conflict as exc:
        return _board_error(request, appointment, [exc.detail], 409)
    messages.success(
        request,
        f"{appointment.patient.full_name}: {restored.get_status_display().lower()} again.",
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
