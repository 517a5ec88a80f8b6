"""Calendar files: a provider's private feed and a patient's own appointment."""

from datetime import timedelta

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET

from sites.models import Provider

from . import ics
from .calendar_events import patient_event, provider_event
from .models import HOLDS_TIME, Appointment, AppointmentStatus

FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 180


def calendar_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _feed_rows(provider: Provider) -> list[Appointment]:
    """The provider's visits in the feed's window, one per calendar UID: the live row where
    the visit still holds time with this provider, else its cancelled one (STATUS:CANCELLED,
    so a calendar that merges rather than replaces takes it off)."""
    now = timezone.now()
    rows = (
        Appointment.objects.filter(
            provider=provider,
            status__in=[*HOLDS_TIME, AppointmentStatus.CANCELLED],
            start__gte=now - timedelta(days=FEED_PAST_DAYS),
            start__lt=now + timedelta(days=FEED_FUTURE_DAYS),
        )
        .select_related("patient", "appointment_type", "location", "room")
        .order_by("start")
    )
    by_uid: dict = {}
    for row in rows:
        kept = by_uid.get(row.calendar_uid)
        if kept is None or (kept.status not in HOLDS_TIME and row.status in HOLDS_TIME):
            by_uid[row.calendar_uid] = row
    return sorted(by_uid.values(), key=lambda row: row.start)


@require_GET
def provider_feed(request, token: str):
    """A provider's appointments for their calendar app; the secret token in the address is
    the only key."""
    provider = get_object_or_404(Provider, calendar_token=token, is_active=True)
    events = [provider_event(appointment) for appointment in _feed_rows(provider)]
    text = ics.calendar(events, name=f"Clinic: {provider.display_name}", stamp=timezone.now())
    return calendar_response(text, "clinic-schedule.ics")


def appointment_file(appointment: Appointment) -> HttpResponse:
    if appointment.status not in HOLDS_TIME:
        raise Http404
    text = ics.calendar(
        [patient_event(appointment)], name="Clinic appointment", stamp=timezone.now()
    )
    return calendar_response(text, "appointment.ics")
