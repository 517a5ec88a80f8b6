"""What a visit looks like as a calendar event: in the patient's calendar (a download or an
email invitation) and in the provider's feed. One UID per visit for its whole life and a
sequence raised by each move or cancellation (scheduling/ics.py)."""

from email.utils import parseaddr

from django.conf import settings
from django.utils.translation import gettext as _

from clinic.core.phones import format_phone

from . import ics
from .models import HOLDS_TIME, Appointment, AppointmentStatus
from .selectors import RESCHEDULED


def event_uid(appointment: Appointment) -> str:
    return f"{appointment.calendar_uid}@clinic"


def event_sequence(appointment: Appointment) -> int:
    """The row a move replaced shows the sequence of the row that took its place."""
    moved_away = (
        appointment.status == AppointmentStatus.CANCELLED
        and appointment.cancel_reason == RESCHEDULED
    )
    return appointment.calendar_sequence + 1 if moved_away else appointment.calendar_sequence


def event_status(appointment: Appointment) -> str:
    return "CONFIRMED" if appointment.status in HOLDS_TIME else "CANCELLED"


def _when_and_which(appointment: Appointment) -> dict:
    """What every view of the visit shares: its UID, its sequence, its status and its time."""
    return {
        "uid": event_uid(appointment),
        "sequence": event_sequence(appointment),
        "status": event_status(appointment),
        "start": appointment.start,
        "end": appointment.end,
    }


def patient_event(appointment: Appointment, *, attendee: str = "") -> ics.Event:
    """What a patient's own calendar gets: when, where, with whom, how to reach the clinic;
    never the kind of procedure (calendars sync to other services)."""
    location = appointment.location
    with_whom = _("With %(provider)s.") % {"provider": appointment.provider.display_name}
    if location.phone:
        call = _("Questions or changes: call %(phone)s.") % {"phone": format_phone(location.phone)}
        with_whom = f"{with_whom} {call}"
    address = ", ".join(p for p in (location.address_line, location.city, location.state) if p)
    return ics.Event(
        **_when_and_which(appointment),
        summary=_("Appointment at %(place)s") % {"place": location.name},
        location=address or location.name,
        description=with_whom,
        organizer=parseaddr(settings.DEFAULT_FROM_EMAIL)[1] if attendee else "",
        attendee=attendee,
    )


def _initials(appointment: Appointment) -> str:
    patient = appointment.patient
    return f"{patient.legal_first_name[:1]}.{patient.legal_last_name[:1]}.".upper()


def provider_event(appointment: Appointment) -> ics.Event:
    """A provider's feed is reachable by its secret address alone, so an event carries the
    patient's initials and the kind of visit, never a name."""
    place = (appointment.room.name if appointment.room else "", appointment.location.name)
    return ics.Event(
        **_when_and_which(appointment),
        summary=f"{_initials(appointment)} · {appointment.appointment_type.name}",
        location=", ".join(part for part in place if part),
    )
