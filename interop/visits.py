"""Schedules, free slots and appointments: Schedule per provider, Slot from scheduling's
availability (never stored), Appointment from the booked visits. US Core 6.1 profiles none
of them; they follow the base R4 resources."""

import base64
import uuid
from datetime import UTC, datetime

from scheduling.availability import Slot
from scheduling.models import Appointment, AppointmentStatus, AppointmentType
from sites.models import Provider

from .codes import clinic_system
from .validate import instant, reference, without_empty

# http://hl7.org/fhir/R4/valueset-appointmentstatus.html
APPOINTMENT_STATUS = {
    AppointmentStatus.BOOKED: "booked",
    AppointmentStatus.CHECKED_IN: "checked-in",
    AppointmentStatus.IN_ROOM: "arrived",
    AppointmentStatus.COMPLETED: "fulfilled",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "noshow",
}
STATUS_OF_FHIR: dict[str, list[str]] = {}
for ours, theirs in APPOINTMENT_STATUS.items():
    STATUS_OF_FHIR.setdefault(theirs, []).append(ours.value)


def visit_type_concept(appointment_type: AppointmentType) -> dict:
    coding = {
        "system": clinic_system("appointment-type"),
        "code": appointment_type.code,
        "display": appointment_type.name,
    }
    return {"coding": [coding], "text": appointment_type.name}


def schedule_resource(provider: Provider) -> dict:
    """The provider's calendar: one Schedule per provider (sharing its id), at each of the
    provider's locations (prefetched)."""
    actors = [reference("Practitioner", provider.id, provider.display_name)]
    actors += [reference("Location", loc.id, loc.name) for loc in provider.locations.all()]
    return {
        "resourceType": "Schedule",
        "id": str(provider.id),
        "active": provider.is_active,
        "actor": actors,
        "comment": "Free slots: search Slot with schedule and service-type.",
    }


def _compact(value: uuid.UUID) -> str:
    return base64.b32encode(value.bytes).decode().rstrip("=").lower()


def _uuid_of(text: str) -> uuid.UUID:
    padded = text.upper() + "=" * (-len(text) % 8)
    return uuid.UUID(bytes=base64.b32decode(padded))


def slot_id(slot: Slot, appointment_type: AppointmentType) -> str:
    """provider.type.start in at most 64 characters of FHIR's id alphabet: two ids in base32
    and the start in minutes since the epoch, base 36."""
    minutes = int(slot.start.timestamp() // 60)
    return f"{_compact(slot.provider.pk)}.{_compact(appointment_type.pk)}.{_base36(minutes)}"


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while number:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
    return text or "0"


def parse_slot_id(text: str) -> tuple[uuid.UUID, uuid.UUID, datetime] | None:
    """(provider id, appointment type id, start) of a slot id, or None if it is not one."""
    try:
        provider, visit_type, minutes = text.split(".")
        start = datetime.fromtimestamp(int(minutes, 36) * 60, tz=UTC)
        return _uuid_of(provider), _uuid_of(visit_type), start
    except (ValueError, OverflowError):
        return None


def slot_resource(slot: Slot, appointment_type: AppointmentType) -> dict:
    return {
        "resourceType": "Slot",
        "id": slot_id(slot, appointment_type),
        "schedule": reference("Schedule", slot.provider.pk),
        "status": "free",
        "start": instant(slot.start),
        "end": instant(slot.end),
        "serviceType": [visit_type_concept(appointment_type)],
        "appointmentType": visit_type_concept(appointment_type),
        "comment": f"At {slot.location.name}",
    }


def appointment_resource(appointment: Appointment) -> dict:
    provider, location = appointment.provider, appointment.location
    participants = [
        {"actor": reference("Patient", appointment.patient_id), "status": "accepted"},
        {
            "actor": reference("Practitioner", provider.pk, provider.display_name),
            "status": "accepted",
        },
        {"actor": reference("Location", location.pk, location.name), "status": "accepted"},
    ]
    resource = {
        "resourceType": "Appointment",
        "id": str(appointment.id),
        "status": APPOINTMENT_STATUS[AppointmentStatus(appointment.status)],
        "serviceType": [visit_type_concept(appointment.appointment_type)],
        "appointmentType": visit_type_concept(appointment.appointment_type),
        "start": instant(appointment.start),
        "end": instant(appointment.end),
        "minutesDuration": int((appointment.end - appointment.start).total_seconds() // 60),
        "created": instant(appointment.created_at),
        "participant": participants,
        "cancelationReason": {"text": appointment.cancel_reason}
        if appointment.cancel_reason
        else None,
    }
    return without_empty(resource)
