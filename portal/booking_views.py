"""The patient's booking pages: choose a visit, see a week of free times in the location's
time zone (a day strip on phones), book, and manage upcoming visits. Views parse input and call the scheduling
services; the rules (notice, horizon, the cap, the change cutoff) are enforced there, so
the API obeys them too."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import count

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from clinic.core.bounds import parse_bounded_date
from clinic.core.errors import Conflict, ValidationFailed
from clinic.core.ratelimit import limit_posts
from clinic.core.times import zone_for_people
from clinic.users.access import role_required
from clinic.users.actor import Actor
from clinic.users.roles import Role
from scheduling.calendar_views import appointment_file
from scheduling.models import Appointment, AppointmentStatus, BookingPolicy
from scheduling.services import (
    appointment_book,
    appointment_move,
    appointment_reschedule,
    nearest_slots,
    patient_change_refusal,
    waitlist_join,
)
from sites.models import Provider, Room

from . import booking
from .booking_forms import BookStartForm, WaitlistForm

patient_only = role_required(Role.PATIENT)


def _patient_or_none(request):
    return getattr(request.user, "patient", None)


def _no_record(request):
    return render(request, "portal/booking/no_record.html", status=403)


@patient_only
def book_start(request):
    patient = _patient_or_none(request)
    if patient is None:
        return _no_record(request)
    form = BookStartForm(request.GET or None, patient=patient)
    if request.GET and form.is_valid():
        return redirect(f"{reverse('portal:book-times')}?{urlencode(form.query())}")
    status = 400 if request.GET and not form.is_valid() else 200
    return render(request, "portal/booking/start.html", {"form": form}, status=status)


class Search:
    """What the times page is looking for, from its query string: what, where, with whom,
    and the first day of the week shown (None: the first day with free times)."""

    def __init__(self, request, patient):
        params = request.GET if request.method == "GET" else request.POST
        self.rescheduling = None
        if params.get("reschedule"):
            self.rescheduling = booking.my_appointment(patient, params["reschedule"])
            self.choice = booking.Choice(
                "reschedule",
                self.rescheduling.appointment_type.localized_name,
                self.rescheduling.appointment_type,
                self.rescheduling.procedure_order,
            )
            self.location = self.rescheduling.location
        else:
            self.choice = booking.choice_for(patient, params.get("what", ""))
            self.location = booking.location_for(params.get("location"))
        self.provider = booking.provider_or_anyone(
            self.location, self.choice, params.get("provider")
        )
        self.start = _start(params.get("day"), self.location)

    def query(self, **changes) -> str:
        values = {
            "what": self.choice.value if not self.rescheduling else "",
            "reschedule": str(self.rescheduling.pk) if self.rescheduling else "",
            "location": str(self.location.pk),
            "provider": str(self.provider.pk) if self.provider else "",
            "day": self.start.isoformat() if self.start else "",
        } | changes
        return urlencode({key: value for key, value in values.items() if value})


def _start(text, location) -> date | None:
    """The week's first day as asked (never before today), or None when not asked."""
    if not text:
        return None
    today = timezone.now().astimezone(location.zone).date()
    try:
        return max(parse_bounded_date(text), today)
    except ValueError:
        return None


def _slot_value(slot) -> str:
    room = str(slot.room.pk) if slot.room else ""
    return f"{slot.start.isoformat()}|{slot.provider.pk}|{room}"


DAY_PARTS = ((_("Morning"), "morning"), (_("Afternoon"), "afternoon"))


def _week_days(week: booking.Week) -> list[dict]:
    """The week's days for the template, each time a radio with an id unique in the page."""
    ids = count(1)
    return [
        {
            "column": column,
            "parts": [
                {
                    "label": label,
                    "slots": [
                        {"id": f"slot-{next(ids)}", "value": _slot_value(s), "slot": s}
                        for s in getattr(column, part)
                    ],
                }
                for label, part in DAY_PARTS
                if getattr(column, part)
            ],
        }
        for column in week.days
    ]


def _times_context(search: Search, week: booking.Week, **extra) -> dict:
    today = timezone.now().astimezone(search.location.zone).date()
    step = timedelta(days=booking.WEEK_DAYS)
    return {
        "search": search,
        "week": week,
        "days": _week_days(week),
        "zone_name": zone_for_people(timezone.now(), search.location),
        "locations": [] if search.rescheduling else list(booking.locations()),
        "next_available": [
            {
                "provider": entry.provider,
                "slot": entry.slot,
                "query": search.query(
                    provider=str(entry.provider.pk),
                    day=entry.slot.local_start.date().isoformat(),
                )
                if entry.slot
                else "",
            }
            for entry in week.next_available
        ],
        "previous_query": search.query(day=max(week.start - step, today).isoformat())
        if week.start > today
        else None,
        "next_query": search.query(day=(week.start + step).isoformat()),
        "idempotency_key": uuid.uuid4().hex,
        "refusal": patient_change_refusal(search.rescheduling) if search.rescheduling else None,
        **extra,
    }


def _week(search: Search, start: date | None = None) -> booking.Week:
    return booking.week_view(
        choice=search.choice,
        location=search.location,
        provider=search.provider,
        start=start or search.start,
    )


@patient_only
@limit_posts("booking")
def book_times(request):
    patient = _patient_or_none(request)
    if patient is None:
        return _no_record(request)
    search = Search(request, patient)
    if request.method == "POST":
        return _book(request, patient, search)
    return render(request, "portal/booking/times.html", _times_context(search, _week(search)))


def _parse_slot(value: str):
    try:
        start_text, provider_id, room_id = value.split("|")
        start = datetime.fromisoformat(start_text)
        provider = Provider.objects.get(pk=uuid.UUID(provider_id), is_active=True)
        room = Room.objects.get(pk=uuid.UUID(room_id)) if room_id else None
    except (ValueError, Provider.DoesNotExist, Room.DoesNotExist):
        return None
    return (start, provider, room) if timezone.is_aware(start) else None


def _book(request, patient, search: Search):
    parsed = _parse_slot(request.POST.get("slot", ""))
    if parsed is None:
        return _times_again(
            request, search, 400, field_error=gettext("Choose one of the free times.")
        )
    start, provider, room = parsed
    if not request.POST.get("same_day_ok"):
        others = booking.same_day_visits(
            patient,
            start=start,
            location=search.location,
            moving=search.rescheduling,
            idempotency_key=request.POST.get("idempotency_key", "")[:80],
        )
        if others:
            return _confirm_same_day(request, search, start, provider, others)
    try:
        appointment = _book_or_move(request, patient, search, start, provider, room)
    except Conflict as error:
        return _times_again(request, search, 409, conflict=error.detail, wanted=start)
    except ValidationFailed as error:
        detail = " ".join(m for msgs in error.fields.values() for m in msgs) or error.detail
        return _times_again(request, search, 400, field_error=detail, wanted=start)
    return redirect("portal:appointment-booked", appointment_id=appointment.pk)


def _confirm_same_day(request, search: Search, start: datetime, provider, others: list):
    """A second visit on one day is often a slip: the patient says yes once more (the same
    form again, with same_day_ok), or goes back to choose another time."""
    context = {
        "search": search,
        "start": start,
        "provider": provider,
        "others": others,
        "slot": request.POST.get("slot", ""),
        "idempotency_key": request.POST.get("idempotency_key", "")[:80],
        "back_query": search.query(day=start.astimezone(search.location.zone).date().isoformat()),
        "zone_name": zone_for_people(start, search.location),
    }
    return render(request, "portal/booking/confirm_same_day.html", context)


def _book_or_move(request, patient, search, start, provider, room):
    if search.rescheduling is not None:
        return appointment_reschedule(
            appointment=search.rescheduling,
            start=start,
            by=Actor.portal(request.user),
            provider=provider,
            room=room,
        )
    return appointment_book(
        patient=patient,
        appointment_type=search.choice.appointment_type,
        provider=provider,
        location=search.location,
        room=room,
        start=start,
        by=Actor.portal(request.user),
        procedure_order=search.choice.order,
        idempotency_key=request.POST.get("idempotency_key", "")[:80],
    )


def _times_again(request, search, status, *, field_error="", conflict="", wanted=None):
    """The times page again, with what went wrong and the free times nearest the wanted one:
    a lost race is never a dead end."""
    start = search.start
    if wanted is not None and start is None:
        start = wanted.astimezone(search.location.zone).date()
    alternatives = []
    if wanted is not None:
        alternatives = _alternatives(search, wanted)
    context = _times_context(
        search,
        _week(search, start),
        field_error=field_error,
        conflict=conflict,
        alternatives=alternatives,
    )
    return render(request, "portal/booking/times.html", context, status=status)


def _alternatives(search, wanted) -> list[dict]:
    nearby = nearest_slots(
        appointment_type=search.choice.appointment_type,
        location=search.location,
        start=wanted,
        procedure_order=search.choice.order,
        provider=search.provider,
    )
    providers = {
        str(p.pk): p for p in Provider.objects.filter(pk__in=[s["provider"] for s in nearby])
    }
    zone = search.location.zone
    return [
        {
            "value": f"{s['start']}|{s['provider']}|{s['room'] or ''}",
            "local": datetime.fromisoformat(s["start"]).astimezone(zone),
            "provider": providers.get(s["provider"]),
        }
        for s in nearby
    ]


@patient_only
def appointment_booked(request, appointment_id):
    patient = _patient_or_none(request)
    if patient is None:
        return _no_record(request)
    appointment = booking.my_appointment(patient, appointment_id)
    return render(request, "portal/booking/booked.html", {"appointment": appointment})


@patient_only
def appointment_calendar(request, appointment_id):
    patient = _patient_or_none(request)
    if patient is None:
        return _no_record(request)
    return appointment_file(booking.my_appointment(patient, appointment_id))


@dataclass(frozen=True)
class UpcomingVisit:
    """An upcoming visit on My appointments: the portal's one reading of it, and why the
    patient may not change it online (None when they may)."""

    visit: booking.PortalVisit
    refusal: str | None

    @property
    def appointment(self) -> Appointment:
        return self.visit.appointment

    @property
    def preparation(self):
        return self.visit.preparation


@patient_only
def my_appointments(request):
    patient = _patient_or_none(request)
    if patient is None:
        return _no_record(request)
    overview = booking.appointments_overview(patient)
    policy = BookingPolicy.current()
    upcoming = [
        UpcomingVisit(
            visit,
            refusal=(
                patient_change_refusal(visit.appointment, policy=policy)
                if visit.appointment.status == AppointmentStatus.BOOKED
                else str(_("You have checked in."))
            ),
        )
        for visit in overview["upcoming"]
    ]
    context = {**overview, "upcoming": upcoming}
    return render(request, "portal/booking/appointments.html", context)


@patient_only
@require_POST
def appointment_cancel(request, appointment_id):
    patient = _patient_or_none(request)
    if patient is None:
        return _no_record(request)
    appointment = booking.my_appointment(patient, appointment_id)
    note = request.POST.get("reason", "").strip()[:200]
    reason = "Cancelled by the patient online." + (f" {note}" if note else "")
    try:
        appointment_move(
            appointment=appointment,
            to=AppointmentStatus.CANCELLED,
            by=Actor.portal(request.user),
            reason=reason,
        )
    except Conflict as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, gettext("Your visit is cancelled."))
    return redirect("portal:appointments")


@patient_only
def waitlist(request):
    patient = _patient_or_none(request)
    if patient is None:
        return _no_record(request)
    form = WaitlistForm(request.POST or None, patient=patient)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                waitlist_join(
                    patient=patient, by=Actor.portal(request.user), **form.service_fields()
                )
            except ValidationFailed as error:
                form.add_service_errors(error)
            else:
                messages.success(
                    request,
                    gettext(
                        "You are on the waiting list. We will text or email you if an earlier "
                        "time comes free."
                    ),
                )
                return redirect("portal:waitlist")
        status = 400
    context = {"form": form, "entries": booking.my_waitlist(patient)}
    return render(request, "portal/booking/waitlist.html", context, status=status)
