from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from clinic.core.ids import NOT_AN_ID
from patients.selectors import patients_visible_to
from sites.models import Location

from .models import Appointment, AppointmentType, WaitlistEntry


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


def appointment_types_offered_to(user) -> QuerySet[AppointmentType]:
    """Active kinds of visit: staff see them all, a patient those they may book themselves."""
    types = AppointmentType.objects.filter(is_active=True)
    if user.is_clinic_staff:
        return types
    return types.filter(patient_bookable=True)


def waitlist_entries_visible_to(user) -> QuerySet[WaitlistEntry]:
    """Staff see the whole waitlist; a patient only their own entries; each entry with its
    kind of visit and its offers loaded alongside, not one query per entry."""
    entries = WaitlistEntry.objects.select_related("appointment_type").prefetch_related("offers")
    if user.is_clinic_staff:
        return entries
    return entries.filter(patient__in=patients_visible_to(user))


def appointment_for(user, appointment_id) -> Appointment:
    try:
        return appointments_visible_to(user).get(pk=appointment_id)
    except (Appointment.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None
