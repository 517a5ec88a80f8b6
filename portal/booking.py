"""Reads for the patient's own booking pages. Every query starts from the signed-in
patient; nothing here is shared with the staff pages (DESIGN convention 6)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from clinic.core.dbrouter import reading_from_replica
from clinic.core.ids import NOT_AN_ID
from procedures.models import OrderStatus, ProcedureOrder
from scheduling.availability import MAX_WINDOW_DAYS, Slot, free_slots, local
from scheduling.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    WaitlistEntry,
    WaitlistStatus,
)
from scheduling.selectors import (
    UPCOMING_STATUSES,
    Preparation,
    upcoming_visits,
    visit_preparation,
)
from sites.models import Location, Provider

SEARCH_WEEKS = 8


@dataclass
class Choice:
    """One thing the patient can book: a kind of visit, or an authorized procedure order."""

    value: str
    label: str
    appointment_type: AppointmentType
    order: ProcedureOrder | None = None


def procedure_type_for_patients() -> AppointmentType | None:
    return (
        AppointmentType.objects.filter(
            kind=AppointmentKind.PROCEDURE, patient_bookable=True, is_active=True
        )
        .order_by("name")
        .first()
    )


def booking_choices(patient) -> list[Choice]:
    """Self-bookable visits, then each procedure a clinician ordered and authorized."""
    choices = [
        Choice(f"type:{kind.pk}", kind.localized_name, kind)
        for kind in AppointmentType.objects.filter(patient_bookable=True, is_active=True)
        .exclude(kind=AppointmentKind.PROCEDURE)
        .order_by("name")
    ]
    procedure = procedure_type_for_patients()
    if procedure is not None:
        orders = ProcedureOrder.objects.filter(
            patient=patient, status=OrderStatus.AUTHORIZED
        ).select_related("procedure_type")
        choices += [
            Choice(
                f"order:{o.pk}",
                gettext("Procedure: %(name)s") % {"name": o.procedure_type.localized_name},
                procedure,
                o,
            )
            for o in orders.order_by("ordered_at")
        ]
    return choices


def choice_for(patient, value: str) -> Choice:
    for choice in booking_choices(patient):
        if choice.value == value:
            return choice
    raise Http404


def locations() -> QuerySet[Location]:
    return Location.objects.filter(is_active=True).order_by("name")


def location_for(location_id) -> Location:
    try:
        return locations().get(pk=location_id)
    except (Location.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


def providers_at(location: Location, choice: Choice) -> QuerySet[Provider]:
    providers = location.providers.filter(is_active=True).order_by("last_name")
    if choice.order is not None:
        providers = providers.filter(procedure_types=choice.order.procedure_type_id)
    return providers


def provider_or_anyone(location: Location, choice: Choice, provider_id) -> Provider | None:
    """The provider asked for if they see patients for this choice at the location; anyone
    otherwise (a filter left from another clinic is dropped, not an error page)."""
    if not provider_id:
        return None
    try:
        return providers_at(location, choice).filter(pk=provider_id).first()
    except NOT_AN_ID:
        return None


@reading_from_replica()
def next_free_day(*, choice: Choice, location: Location, provider, after: date) -> date | None:
    """The first day after `after` with a free slot, within the next few weeks."""
    order = choice.order
    for week in range(SEARCH_WEEKS):
        start = after + timedelta(days=1 + 7 * week)
        found = free_slots(
            appointment_type=choice.appointment_type,
            location=location,
            provider=provider,
            procedure_type=order.procedure_type if order else None,
            levels=len(order.levels) if order else 1,
            start_date=start,
            end_date=start + timedelta(days=6),
            limit=1,
        )
        if found:
            return found[0].local_start.date()
    return None


# --- The week at a glance ------------------------------------------------------------------

WEEK_DAYS = 7
NOON = time(12, 0)


@dataclass(frozen=True)
class DayColumn:
    """One day of the week view: its free times, split at noon (local time)."""

    day: date
    morning: list[Slot]
    afternoon: list[Slot]

    @property
    def anchor(self) -> str:
        return f"day-{self.day.isoformat()}"

    @property
    def count(self) -> int:
        return len(self.morning) + len(self.afternoon)


@dataclass(frozen=True)
class NextAvailable:
    """A provider of the location and their first free time ahead (None: none soon)."""

    provider: Provider
    slot: Slot | None


@dataclass(frozen=True)
class Week:
    """What the times page shows: seven days from `start`, the day a phone opens on (the
    first with free times, when there is one) and each provider's next free time."""

    start: date
    days: list[DayColumn]
    opening: date
    next_available: list[NextAvailable]

    @property
    def end(self) -> date:
        return self.start + timedelta(days=WEEK_DAYS - 1)

    @property
    def is_empty(self) -> bool:
        return not any(column.count for column in self.days)


def _free(choice: Choice, location: Location, provider, first: date, last: date) -> list[Slot]:
    order = choice.order
    return free_slots(
        appointment_type=choice.appointment_type,
        location=location,
        provider=provider,
        procedure_type=order.procedure_type if order else None,
        levels=len(order.levels) if order else 1,
        start_date=first,
        end_date=last,
    )


def _columns(slots: list[Slot], start: date) -> list[DayColumn]:
    by_day: dict[date, list[Slot]] = {start + timedelta(days=n): [] for n in range(WEEK_DAYS)}
    for slot in slots:
        by_day.setdefault(slot.local_start.date(), []).append(slot)
    return [
        DayColumn(
            day=day,
            morning=[s for s in slots_of_day if s.local_start.time() < NOON],
            afternoon=[s for s in slots_of_day if s.local_start.time() >= NOON],
        )
        for day, slots_of_day in sorted(by_day.items())
        if start <= day < start + timedelta(days=WEEK_DAYS)
    ]


@reading_from_replica()
def week_view(
    *, choice: Choice, location: Location, provider: Provider | None, start: date | None
) -> Week:
    """The week from `start`; without one, from the first day with free times (within the
    search window), so the page never opens on an empty day. A fixed number of queries:
    one look ahead for every provider of the location (their next free times), one read of
    the week, whatever the number of providers or of free times."""
    today = timezone.now().astimezone(location.zone).date()
    ahead = _free(choice, location, None, today, today + timedelta(days=MAX_WINDOW_DAYS - 1))
    first_of: dict[object, Slot] = {}
    for slot in ahead:
        first_of.setdefault(slot.provider.pk, slot)
    providers = list(providers_at(location, choice))
    if start is None:
        wanted = first_of.get(provider.pk) if provider else (ahead[0] if ahead else None)
        start = wanted.local_start.date() if wanted else None
    if start is None:  # nothing in the window: look further, week by week (rare)
        last = today + timedelta(days=MAX_WINDOW_DAYS - 1)
        found = next_free_day(choice=choice, location=location, provider=provider, after=last)
        start = found or today
    start = max(start, today)
    days = _columns(
        _free(choice, location, provider, start, start + timedelta(days=WEEK_DAYS - 1)), start
    )
    opening = next((column.day for column in days if column.count), start)
    return Week(
        start=start,
        days=days,
        opening=opening,
        next_available=[NextAvailable(doc, first_of.get(doc.pk)) for doc in providers],
    )


def same_day_visits(
    patient,
    *,
    start: datetime,
    location: Location,
    moving: Appointment | None = None,
    idempotency_key: str = "",
) -> list[Appointment]:
    """The patient's other active visits on the local day of `start` (with any provider,
    at any location): booking one more that day asks the patient to confirm first. The
    visit this very form already booked (a form sent twice) is not another one."""
    day = start.astimezone(location.zone).date()
    visits = Appointment.objects.filter(
        patient=patient,
        status__in=UPCOMING_STATUSES,
        start__gte=local(day, time.min, location.zone),
        start__lt=local(day + timedelta(days=1), time.min, location.zone),
    ).select_related("provider", "location", "appointment_type")
    if moving is not None:
        visits = visits.exclude(pk=moving.pk)
    if idempotency_key:
        visits = visits.exclude(idempotency_key=idempotency_key)
    return list(visits.order_by("start"))


@dataclass(frozen=True)
class PortalVisit:
    """An upcoming visit as the portal home and My appointments both show it: the visit,
    and for a procedure how to prepare (with the dates of any medicine holds)."""

    appointment: Appointment
    preparation: Preparation | None


def upcoming_for_patient(patient, now: datetime | None = None) -> list[PortalVisit]:
    """The one read of the patient's upcoming visits for every portal page."""
    return [PortalVisit(visit, visit_preparation(visit)) for visit in upcoming_visits(patient, now)]


def my_appointments(patient) -> QuerySet[Appointment]:
    return Appointment.objects.filter(patient=patient).select_related(
        "appointment_type", "provider", "location", "procedure_order__procedure_type"
    )


PAST_SHOWN = 50


def appointments_overview(patient) -> dict[str, list]:
    """Upcoming visits, the cancelled ones still ahead, and the past (newest first)."""
    now = timezone.now()
    mine = my_appointments(patient)
    return {
        "upcoming": upcoming_for_patient(patient, now),  # as the portal home reads them
        "cancelled": list(
            mine.filter(start__gt=now, status=AppointmentStatus.CANCELLED).order_by("start")
        ),
        "past": list(mine.filter(start__lte=now).order_by("-start")[:PAST_SHOWN]),
    }


def my_appointment(patient, appointment_id) -> Appointment:
    try:
        return my_appointments(patient).get(pk=appointment_id)
    except (Appointment.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


def my_waitlist(patient):
    return list(
        WaitlistEntry.objects.filter(
            patient=patient, status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED]
        )
        .select_related("appointment_type", "location", "provider")
        .order_by("created_at")
    )
