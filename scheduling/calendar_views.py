"""Calendar files: a provider's private feed and a patient's own appointment."""

from datetime import timedelta

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.core.phones import format_phone
from sites.models import Provider

from . import ics
from .models import HOLDS_TIME, Appointment

FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 180


def _initials(patient) -> str:
    return f"{patient.legal_first_name[:1]}.{patient.legal_last_name[:1]}.".upper()


def calendar_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def provider_feed(request, token: str):
    """A provider's appointments for their calendar app. The secret token in the address is
    the only key, so events carry initials and the appointment type, never a name."""
    provider = get_object_or_404(Provider, calendar_token=token, is_active=True)
    now = timezone.now()
    appointments = (
        Appointment.objects.filter(
            provider=provider,
            status__in=HOLDS_TIME,
            start__gte=now - timedelta(days=FEED_PAST_DAYS),
            start__lt=now + timedelta(days=FEED_FUTURE_DAYS),
        )
        .select_related("patient", "appointment_type", "location", "room")
        .order_by("start")
    )
    events = [
        ics.Event(
            uid=f"{appointment.pk}@clinic",
            start=appointment.start,
            end=appointment.end,
            summary=f"{_initials(appointment.patient)} · {appointment.appointment_type.name}",
            location=", ".join(
                part
                for part in (
                    appointment.room.name if appointment.room else "",
                    appointment.location.name,
                )
                if part
            ),
        )
        for appointment in appointments
    ]
    text = ics.calendar(events, name=f"Clinic: {provider.display_name}", stamp=now)
    return calendar_response(text, "clinic-schedule.ics")


def patient_event(appointment: Appointment) -> ics.Event:
    """What a patient's own calendar gets: when, where, with whom, how to reach the clinic;
    never the kind of procedure (calendars sync to other services)."""
    location = appointment.location
    phone = f" Questions or changes: call {format_phone(location.phone)}." if location.phone else ""
    address = ", ".join(p for p in (location.address_line, location.city, location.state) if p)
    return ics.Event(
        uid=f"{appointment.pk}@clinic",
        start=appointment.start,
        end=appointment.end,
        summary=f"Appointment at {location.name}",
        location=address or location.name,
        description=f"With {appointment.provider.display_name}.{phone}",
    )


def appointment_file(appointment: Appointment) -> HttpResponse:
    if appointment.status not in HOLDS_TIME:
        raise Http404
    text = ics.calendar(
        [patient_event(appointment)], name="Clinic appointment", stamp=timezone.now()
    )
    return calendar_response(text, "appointment.ics")
