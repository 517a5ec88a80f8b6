"""The front desk's booking page: find the patient, choose the kind of visit (a procedure
through one of the patient's authorized orders), an optional provider and a day, then one of
the slots availability offers. No typed time, except an explicit overbook with a reason for
the roles the booking policy allows.

A procedure is reviewed before it is booked: the page shows the safety check's findings for
that order on that day and asks for a confirmation; a blocking finding no clinician has
overridden leaves nothing to confirm (the service refuses it anyway).

Every step posts the one form again (the patient search stays out of URLs); the search also
answers htmx as the desk types (`book_patients`). A GET takes a prefill from the calendar or
an order page: `?location=&provider=&room=&start=<ISO local>&date=&order=&patient=`.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.core.ids import NOT_AN_ID
from clinic.core.times import short_zone_name
from clinic.users.access import signed_in_user, staff_required
from clinic.users.actor import Actor
from patients.forms import add_service_errors
from patients.models import Patient
from patients.selectors import patient_for, patient_search
from procedures.models import OrderStatus, ProcedureOrder
from procedures.safety import SEVERITY_ORDER
from procedures.selectors import orders_visible_to
from procedures.services import order_findings, unresolved_blocks
from sites.models import Location, Provider, Room

from . import services
from .alternatives import alternatives_text
from .availability import Calendar, Slot, free_slots
from .forms import BookForm, slot_value
from .localtime import to_aware
from .models import AppointmentKind, AppointmentType, BookingPolicy
from .services.booking import need_of

SEARCH_RESULTS = 10
NEAREST_SHOWN = 3
# Before 7:00 or from 20:00 a visit is "at night": an overbook then is said so plainly.
DAY_STARTS, NIGHT_STARTS = time(7), time(20)
# GET prefill names -> the form's names.
PREFILL = {
    "location": "location",
    "patient": "patient",
    "appointment_type": "appointment_type",
    "order": "order",
    "provider": "provider",
    "date": "day",
}


@dataclass
class Booking:
    """What the form has chosen so far, resolved to rows, and what the page shows for it."""

    location: Location
    patient: Patient | None = None
    results: list[Patient] = field(default_factory=list)
    appointment_type: AppointmentType | None = None
    orders: list[ProcedureOrder] = field(default_factory=list)
    order: ProcedureOrder | None = None
    provider: Provider | None = None
    day: date | None = None
    slots: list[Slot] = field(default_factory=list)
    chosen: str = ""
    notice: str = ""
    nearest: list[Slot] = field(default_factory=list)
    review: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def is_procedure(self) -> bool:
        kind = self.appointment_type
        return kind is not None and kind.kind == AppointmentKind.PROCEDURE


# --- Read helpers (private; the page's own small reads) --------------------------------------


def _locations() -> list[Location]:
    return list(Location.objects.filter(is_active=True))


def _location_of(location_id: str | None, locations: list[Location]) -> Location:
    if not location_id:
        return locations[0]
    found = next((loc for loc in locations if str(loc.pk) == location_id), None)
    if found is None:
        raise Http404
    return found


def _default_type() -> AppointmentType | None:
    """The follow-up, the visit the desk books most."""
    kinds = AppointmentType.objects.filter(is_active=True)
    return kinds.filter(code="follow_up").first() or kinds.filter(kind="follow_up").first()


def _procedure_type() -> AppointmentType | None:
    return AppointmentType.objects.filter(is_active=True, kind=AppointmentKind.PROCEDURE).first()


def _authorized_orders(user, patient: Patient) -> list[ProcedureOrder]:
    return list(
        orders_visible_to(user)
        .filter(patient=patient, status=OrderStatus.AUTHORIZED)
        .order_by("ordered_at")
    )


def _order_of(user, order_id) -> ProcedureOrder | None:
    try:
        return orders_visible_to(user).get(pk=order_id)
    except (ProcedureOrder.DoesNotExist, *NOT_AN_ID):
        return None


def _board_url(location: Location, day: date) -> str:
    query = urlencode({"location": str(location.pk), "date": day.isoformat()})
    return f"{reverse('scheduling:day-board')}?{query}"


def _today(location: Location) -> date:
    return timezone.now().astimezone(location.zone).date()


def _may_overbook(user) -> bool:
    return user.role in BookingPolicy.current().overbook_roles


# --- Resolving the form ------------------------------------------------------------------


def _form_data(request: HttpRequest) -> QueryDict:
    if request.method == "POST":
        return request.POST
    data = QueryDict(mutable=True)
    for name, target in PREFILL.items():
        if request.GET.get(name):
            data[target] = request.GET[name]
    start = request.GET.get("start", "")
    if start:  # the calendar's click: that day's offered times, and the overbook filled in
        data.setdefault("day", start[:10])
        data["overbook_start"] = start[:16]
        for name in ("provider", "room"):
            if request.GET.get(name):
                data[f"overbook_{name}"] = request.GET[name]
    return data


def _resolve(request: HttpRequest, form: BookForm, location: Location) -> Booking:
    """The chosen patient, kind, order, provider and day (each only if valid)."""
    cleaned = form.cleaned_data
    user = request.user
    booking = Booking(location=location, provider=cleaned.get("provider"))
    if cleaned.get("order"):
        booking.order = _order_of(user, cleaned["order"])
        if booking.order is None:
            form.add_error("order", "Choose one of the patient's authorized orders.")
    patient_id = cleaned.get("patient") or (booking.order.patient_id if booking.order else None)
    if patient_id:
        try:
            booking.patient = patient_for(user, patient_id)
        except Http404:
            form.add_error("patient", "Choose a patient from the search results.")
    query = (cleaned.get("q") or "").strip()
    booking.results = list(patient_search(query=query)[:SEARCH_RESULTS]) if query else []
    if booking.patient is not None and booking.patient not in booking.results:
        booking.results.insert(0, booking.patient)
    booking.appointment_type = cleaned.get("appointment_type") or (
        _procedure_type() if booking.order else _default_type()
    )
    _resolve_order(form, booking, user)
    today = _today(location)
    day = _day_asked(request, cleaned) or today
    booking.day = max(day, today)
    return booking


def _show_resolved(form: BookForm, booking: Booking) -> None:
    """The kind of visit the page settled on (the default, or the order's) shows selected."""
    kind = booking.appointment_type
    if kind is not None and not form.data.get("appointment_type"):
        data = QueryDict(mutable=True)
        data.update(form.data)
        data["appointment_type"] = str(kind.pk)
        form.data = data


def _day_asked(request: HttpRequest, cleaned: dict) -> date | None:
    go = request.POST.get("go_day") if request.method == "POST" else None
    if go:
        try:
            return date.fromisoformat(go)
        except ValueError:
            return None
    return cleaned.get("day")


def _resolve_order(form: BookForm, booking: Booking, user) -> None:
    if not booking.is_procedure:
        booking.order = None
        return
    if booking.patient is not None:
        booking.orders = _authorized_orders(user, booking.patient)
    if booking.order is not None and booking.order not in booking.orders:
        form.add_error("order", "This order is not authorized for booking.")
        booking.order = None
    if booking.order is None and len(booking.orders) == 1:
        booking.order = booking.orders[0]


def _offered(booking: Booking) -> list[Slot]:
    kind, order = booking.appointment_type, booking.order
    if kind is None or booking.day is None or (booking.is_procedure and order is None):
        return []
    return free_slots(
        appointment_type=kind,
        location=booking.location,
        provider=booking.provider,
        procedure_type=order.procedure_type if order else None,
        levels=len(order.levels) if order else 1,
        start_date=booking.day,
        end_date=booking.day,
        for_staff=True,
    )


def _value(slot: Slot) -> str:
    return slot_value(slot.provider.pk, slot.room.pk if slot.room else None, slot.start)


def _prefill_start(request: HttpRequest, booking: Booking) -> None:
    """A start asked for by the calendar: preselect its offered slot, or say it is not
    offered and name the nearest offered ones."""
    text = request.GET.get("start", "")
    try:
        wanted = to_aware(datetime.fromisoformat(text), booking.location.zone)
    except (ValueError, ValidationFailed):
        booking.notice = f"“{text[:30]}” is not a date and time; choose an offered time."
        return
    room = request.GET.get("room", "")
    wanted = wanted.astimezone(UTC)  # PEP 495: compare the repeated hour in UTC
    matches = [slot for slot in booking.slots if slot.start == wanted]
    matches.sort(key=lambda slot: str(slot.room.pk if slot.room else "") != room)
    if matches:
        booking.chosen = _value(matches[0])
        return
    local = wanted.astimezone(booking.location.zone)
    who = f" with {booking.provider.display_name}" if booking.provider else ""
    booking.notice = f"{local:%a %b %d}, {_clock(local)}{who} is not an offered time."
    booking.nearest = sorted(booking.slots, key=lambda slot: abs(slot.start - wanted))[
        :NEAREST_SHOWN
    ]
    booking.nearest.sort(key=lambda slot: slot.start)


def _clock(moment: datetime) -> str:
    return f"{moment:%I:%M %p}".lstrip("0")


# --- Acting ------------------------------------------------------------------------------


def _ready(form: BookForm, booking: Booking) -> bool:
    """Whether the patient, the kind and (for a procedure) the order are chosen."""
    if booking.patient is None:
        form.add_error("patient", "Find the patient and choose them.")
    if booking.appointment_type is None:
        form.add_error("appointment_type", "Choose the kind of visit.")
    if booking.is_procedure and booking.order is None:
        form.add_error("order", "Choose the authorized order to book.")
    return not form.errors


def _slot_rows(form: BookForm, booking: Booking):
    """The chosen slot's provider, room and start, read at this location."""
    provider_id, room_id, start = form.cleaned_data["slot"]
    provider = Provider.objects.filter(pk=provider_id, locations=booking.location).first()
    room = Room.objects.filter(pk=room_id, location=booking.location).first() if room_id else None
    if provider is None or (room_id and room is None):
        form.add_error("slot", "Choose one of the offered times.")
        return None
    return provider, room, start


def _findings_at(booking: Booking, slot_start: datetime) -> dict[str, Any]:
    """The safety check for the order on the visit's day (run here, saved by the booking)."""
    order = booking.order
    assert order is not None  # a procedure is reviewed only with its order
    order.planned_date = slot_start.astimezone(booking.location.zone).date()
    findings = order_findings(order)  # computed on this copy; nothing is saved
    overrides = {o.finding_code: o for o in order.overrides.all()}
    rows = [
        {**finding, "override": overrides.get(finding["code"])}
        for finding in sorted(findings, key=lambda f: SEVERITY_ORDER.get(f["severity"], 9))
    ]
    return {
        "findings": rows,
        "blocks": unresolved_blocks(order),
        "day": order.planned_date,
        # "Eligible now" is judged on the date at the visit's location, not the clinic's.
        "today": timezone.now().astimezone(booking.location.zone).date(),
    }


def _book(request: HttpRequest, form: BookForm, booking: Booking, confirmed: bool):
    """Book the chosen offered slot; a procedure first shows its findings to confirm."""
    if not _ready(form, booking):
        return None
    if not form.cleaned_data.get("slot"):
        form.add_error("slot", "Choose one of the offered times.")
        return None
    rows = _slot_rows(form, booking)
    if rows is None:
        return None
    provider, room, start = rows
    booking.chosen = slot_value(provider.pk, room.pk if room else None, start)
    if booking.is_procedure and not confirmed:
        booking.review = _findings_at(booking, start)
        booking.review["slot"] = (provider, room, start.astimezone(booking.location.zone))
        return None
    return _call(request, form, booking, provider=provider, room=room, start=start)


def _call(request: HttpRequest, form: BookForm, booking: Booking, **fields):
    """The service call; its refusal goes on the form, with the status it deserves."""
    assert booking.patient is not None and booking.appointment_type is not None
    try:
        appointment = services.appointment_book(
            patient=booking.patient,
            appointment_type=booking.appointment_type,
            location=booking.location,
            procedure_order=booking.order,
            by=Actor.desk(signed_in_user(request)),
            **fields,
        )
    except ValidationFailed as exc:
        add_service_errors(form, exc)
        return 400
    except Forbidden as exc:
        form.add_error(None, exc.detail)
        return 403
    except Conflict as exc:
        form.add_error(None, exc.detail)
        for finding in exc.extra.get("findings") or []:
            form.add_error(None, finding.get("reason", ""))
        nearby = alternatives_text(exc.extra.get("alternatives") or [], booking.location)
        if nearby:  # a slot taken meanwhile: the nearest free ones, named
            form.add_error(None, nearby)
        return 409
    local_start = appointment.start.astimezone(booking.location.zone)
    extra = " (overbooked)" if appointment.overbooked else ""
    messages.success(
        request,
        f"Booked {booking.patient.full_name} for {local_start:%a %b %d}, {_clock(local_start)} "
        f"with {appointment.provider.display_name}{extra}.",
    )
    return redirect(_board_url(booking.location, local_start.date()))


def _overbook_warnings(booking: Booking, provider: Provider, start: datetime) -> list[str]:
    """Plain words for a typed time: at night, outside the provider's hours, on top of
    another of their visits (one availability read of that provider's day)."""
    assert booking.appointment_type is not None
    zone = booking.location.zone
    local = start.astimezone(zone)
    need = need_of(booking.appointment_type, booking.order)
    end = start + timedelta(minutes=need.minutes)
    calendar = Calendar(
        providers=[provider],
        locations=[booking.location],
        start_date=local.date(),
        end_date=local.date(),
        room_kind="",
    )
    sessions = calendar.sessions(provider, booking.location, local.date())
    when = f"{local:%a %b %d}, {_clock(local)}"
    warnings = []
    if local.time() < DAY_STARTS or local.time() >= NIGHT_STARTS:
        warnings.append(f"{when} is at night.")
    if not any(begin <= start and end <= finish for begin, finish in sessions):
        warnings.append(f"{when} is outside {provider.display_name}'s hours that day.")
    if calendar.provider_free(provider.pk).overlaps(start, end):
        warnings.append(f"{provider.display_name} already has a visit then.")
    return warnings


def _overbook(request: HttpRequest, form: BookForm, booking: Booking):
    """A typed time with a reason: warned plainly first when it is at night or outside the
    provider's hours, booked once confirmed."""
    if not _may_overbook(request.user):
        form.add_error(None, "Your role may not overbook; the booking policy says who may.")
        return 403
    cleaned = form.cleaned_data
    if not _ready(form, booking):
        return None
    provider, naive = cleaned.get("overbook_provider"), cleaned.get("overbook_start")
    if provider is None:
        form.add_error("overbook_provider", "Choose the provider.")
    if naive is None:
        form.add_error("overbook_start", "Give the date and time.")
    if provider is None or naive is None:
        return None
    try:
        start = to_aware(naive, booking.location.zone, field="overbook_start")
    except ValidationFailed as exc:
        add_service_errors(form, exc)
        return 400
    booking.warnings = _overbook_warnings(booking, provider, start)
    if booking.warnings and not cleaned.get("overbook_confirmed"):
        return None  # said plainly; the desk confirms or changes the time
    return _call(
        request,
        form,
        booking,
        provider=provider,
        room=cleaned.get("overbook_room"),
        start=start,
        overbook_reason=cleaned.get("overbook_reason") or "",
    )


def _act(request: HttpRequest, form: BookForm, booking: Booking):
    """The POSTed step: a redirect when booked, a status when refused, None to show the page."""
    action = request.POST.get("action", "")
    if action in ("book", "confirm"):
        return _book(request, form, booking, confirmed=action == "confirm")
    if action == "overbook":
        return _overbook(request, form, booking)
    return None


# --- Pages -------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    locations = _locations()
    if not locations:
        return render(request, "scheduling/book.html", {"location": None})
    data = _form_data(request)
    location = _location_of(data.get("location"), locations)
    form = BookForm(data, location=location)
    form.is_valid()  # every field is optional; each step asks for what it needs
    booking = _resolve(request, form, location)
    _show_resolved(form, booking)
    outcome = _act(request, form, booking) if request.method == "POST" else None
    if isinstance(outcome, HttpResponse):
        return outcome
    booking.slots = _offered(booking)  # after the step: a refused booking sees fresh slots
    if request.method == "GET" and request.GET.get("start"):
        _prefill_start(request, booking)
    elif not booking.chosen and form.cleaned_data.get("slot"):
        booking.chosen = str(form.data.get("slot", ""))
    status = outcome if isinstance(outcome, int) else (400 if form.errors else 200)
    context = _context(request, form, booking, locations)
    return render(request, "scheduling/book.html", context, status=status)


def _context(request, form: BookForm, booking: Booking, locations) -> dict[str, Any]:
    zone = booking.location.zone
    day = booking.day or _today(booking.location)
    return {
        "form": form,
        "booking": booking,
        "location": booking.location,
        "locations": locations,
        "zone_name": short_zone_name(timezone.now().astimezone(zone)),
        "slot_rows": [
            {"value": _value(slot), "slot": slot, "checked": _value(slot) == booking.chosen}
            for slot in booking.slots
        ],
        "previous_day": (day - timedelta(days=1)).isoformat()
        if day > _today(booking.location)
        else "",
        "next_day": (day + timedelta(days=1)).isoformat(),
        "may_overbook": _may_overbook(request.user),
        "overbook_open": request.POST.get("action") == "overbook",
        "board_url": _board_url(booking.location, day),
    }


@staff_required
@require_POST
def book_patients(request: HttpRequest) -> HttpResponse:
    """The search results as the desk types (htmx): radio buttons to choose the patient."""
    query = request.POST.get("q", "").strip()[:100]
    results = list(patient_search(query=query)[:SEARCH_RESULTS]) if query else []
    return render(
        request,
        "scheduling/_book_patients.html",
        {"results": results, "query": query, "chosen": request.POST.get("patient", "")},
    )
