"""Reads for the patient's own booking pages. Every query starts from the signed-in
patient; nothing here is shared with the staff pages (DESIGN convention 6)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from clinic.core.ids import NOT_AN_ID
from procedures.models import OrderStatus, ProcedureOrder
from scheduling.availability import free_slots
from scheduling.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    WaitlistEntry,
    WaitlistStatus,
)
from scheduling.selectors import upcoming_visits
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
        Choice(f"type:{kind.pk}", kind.name, kind)
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
            Choice(f"order:{o.pk}", f"Procedure: {o.procedure_type.name}", procedure, o)
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


def provider_for(location: Location, choice: Choice, provider_id) -> Provider | None:
    if not provider_id:
        return None
    try:
        return providers_at(location, choice).get(pk=provider_id)
    except (Provider.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


def day_slots(*, choice: Choice, location: Location, provider, day: date) -> list:
    order = choice.order
    return free_slots(
        appointment_type=choice.appointment_type,
        location=location,
        provider=provider,
        procedure_type=order.procedure_type if order else None,
        levels=len(order.levels) if order else 1,
        start_date=day,
        end_date=day,
    )


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


def my_appointments(patient) -> QuerySet[Appointment]:
    return Appointment.objects.filter(patient=patient).select_related(
        "appointment_type", "provider", "location", "procedure_order__procedure_type"
    )


PAST_SHOWN = 50


def appointments_overview(patient) -> dict[str, list[Appointment]]:
    """Upcoming visits, the cancelled ones still ahead, and the past (newest first)."""
    now = timezone.now()
    mine = my_appointments(patient)
    return {
        "upcoming": list(upcoming_visits(patient, now)),  # as the portal home reads them
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
