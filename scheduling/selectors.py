from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from patients.selectors import patients_visible_to
from sites.models import Location, Provider, Room

from .models import Appointment

NOT_AN_ID = (ValueError, TypeError, ValidationError)


def locations_for_board():
    """Active locations with their active rooms and providers, in three queries."""
    return Location.objects.filter(is_active=True).prefetch_related(
        Prefetch("rooms", queryset=Room.objects.filter(is_active=True).order_by("name")),
        Prefetch("providers", queryset=Provider.objects.filter(is_active=True)),
    )


def local_now(location: Location):
    return timezone.now().astimezone(location.zone)


def appointments_visible_to(user) -> QuerySet[Appointment]:
    """Staff see every appointment; a patient only their own."""
    appointments = Appointment.objects.select_related(
        "appointment_type", "provider", "location", "room"
    )
    if user.is_clinic_staff:
        return appointments.select_related("patient")
    return appointments.filter(patient__in=patients_visible_to(user))


def appointment_for(user, appointment_id) -> Appointment:
    try:
        return appointments_visible_to(user).get(pk=appointment_id)
    except (Appointment.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None
