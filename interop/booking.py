"""Booking through FHIR: an Appointment resource POSTed to /fhir/Appointment becomes a call
to scheduling's appointment_book with the same rules as every other channel (availability,
who may book what, the patients' limits); a taken slot is its 409."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from pydantic import ValidationError

from clinic.core.errors import ValidationFailed
from clinic.users.actor import Actor
from clinic.users.models import User
from clinic.users.roles import Role
from patients.models import Patient
from patients.selectors import patients_visible_to
from scheduling.models import Appointment, AppointmentType
from scheduling.selectors import appointment_types_offered_to
from scheduling.services import appointment_book
from sites.models import Location, Provider, Room

from .outcome import FhirError
from .registry import free_slot_at
from .visits import parse_slot_id

BOOKABLE_STATUSES = frozenset({"proposed", "pending", "booked"})
# Field names of scheduling's errors, as the Appointment's elements.
ELEMENTS = {
    "patient": "Appointment.participant",
    "provider": "Appointment.participant",
    "location": "Appointment.participant",
    "room": "Appointment.participant",
    "appointment_type": "Appointment.appointmentType",
    "start": "Appointment.start",
    "procedure_order": "Appointment.basedOn",
}


@dataclass(frozen=True)
class Request:
    patient: Patient
    provider: Provider
    location: Location
    appointment_type: AppointmentType
    start: datetime
    room: Room | None


def _invalid(element: str, message: str) -> FhirError:
    return FhirError(400, message, fields={element: [message]})


def parsed(body: object) -> FhirAppointment:
    if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
        raise _invalid("resourceType", "The body must be an Appointment resource.")
    try:
        return FhirAppointment.model_validate(body)
    except ValidationError as error:
        fields: dict[str, list[str]] = {}
        for problem in error.errors():
            path = "Appointment." + ".".join(str(part) for part in problem["loc"])
            fields.setdefault(path, []).append(problem["msg"])
        raise FhirError(400, "The Appointment is not valid FHIR R4.", fields=fields) from None


def _actors(resource: FhirAppointment) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    for participant in resource.participant or []:
        reference = participant.actor.reference if participant.actor else None
        kind, _, text = (reference or "").rpartition("/")
        try:
            found[kind.rsplit("/", 1)[-1]] = uuid.UUID(text)
        except ValueError:
            raise _invalid("Appointment.participant", f"{reference!r} is not ours.") from None
    return found


def _visit_type_code(resource: FhirAppointment) -> str | None:
    concepts = [resource.appointmentType, *(resource.serviceType or [])]
    for concept in concepts:
        for coding in (concept.coding or []) if concept else []:
            if coding.code:
                return coding.code
    return None


def _slot(resource: FhirAppointment) -> tuple[uuid.UUID, uuid.UUID, datetime] | None:
    for slot in resource.slot or []:
        parts = parse_slot_id((slot.reference or "").removeprefix("Slot/"))
        if parts is None:
            raise _invalid("Appointment.slot", f"{slot.reference!r} is not a free slot's id.")
        return parts
    return None


def _patient_of(user: User, wanted: uuid.UUID | None) -> Patient:
    if user.has_role(Role.PATIENT):
        own = patients_visible_to(user).first()
        if own is None:
            raise FhirError(403, "Your login is not linked to a patient record yet.")
        if wanted is not None and wanted != own.pk:
            raise FhirError(403, "A patient books only their own visits.")
        return own
    if not user.is_clinic_staff:
        raise FhirError(403, "Your role does not book visits.")
    if wanted is None:
        raise _invalid("Appointment.participant", "Name the patient (Patient/<id>).")
    found = patients_visible_to(user).filter(pk=wanted).first()
    if found is None:
        raise _invalid("Appointment.participant", f"No patient with id {wanted}.")
    return found


def booking_request(user: User, body: object) -> Request:
    resource = parsed(body)
    if resource.status not in BOOKABLE_STATUSES:
        raise _invalid("Appointment.status", "A new appointment is proposed, pending or booked.")
    actors = _actors(resource)
    slot = _slot(resource)
    provider_id = slot[0] if slot else actors.get("Practitioner")
    type_filter = {"pk": slot[1]} if slot else {"code": _visit_type_code(resource)}
    start = slot[2] if slot else resource.start
    patient = _patient_of(user, actors.get("Patient"))
    provider = None
    if provider_id is not None:
        provider = Provider.objects.filter(pk=provider_id, is_active=True).first()
    if provider is None:
        raise _invalid("Appointment.participant", "Name an active practitioner.")
    location = _location(provider, actors.get("Location"))
    visit_type = appointment_types_offered_to(user).filter(**type_filter).first()
    if visit_type is None:
        raise _invalid("Appointment.appointmentType", "Name a kind of visit you may book.")
    if start is None or start.tzinfo is None:
        raise _invalid("Appointment.start", "Give the start as an instant with its offset.")
    return Request(
        patient,
        provider,
        location,
        visit_type,
        start,
        _room(user, visit_type, provider, location, start),
    )


def _room(
    user: User,
    visit_type: AppointmentType,
    provider: Provider,
    location: Location,
    start: datetime,
) -> Room | None:
    """Staff book what availability offers and the service picks the offered room; a
    patient books a free slot, whose room is the one availability chose for it."""
    if user.is_clinic_staff:
        return None
    slot = free_slot_at(user, visit_type, provider, start)
    if slot is None or slot.location.pk != location.pk:
        raise _invalid(
            "Appointment.start", "That time is not free: search Slot for the free times."
        )
    return slot.room


def _location(provider: Provider, wanted: uuid.UUID | None) -> Location:
    places = provider.locations.filter(is_active=True)
    if wanted is not None:
        places = places.filter(pk=wanted)
    found = list(places[:2])
    if len(found) != 1:
        raise _invalid(
            "Appointment.participant", "Name a location (Location/<id>) where they work."
        )
    return found[0]


def appointment_create(user: User, body: object) -> Appointment:
    """Book the visit the Appointment asks for; scheduling's field errors come back as the
    Appointment's elements."""
    wanted = booking_request(user, body)
    try:
        return appointment_book(
            patient=wanted.patient,
            appointment_type=wanted.appointment_type,
            provider=wanted.provider,
            location=wanted.location,
            start=wanted.start,
            room=wanted.room,
            by=Actor.api(user),
        )
    except ValidationFailed as error:
        fields: dict[str, list] = {}
        for key, messages in error.fields.items():
            listed = messages if isinstance(messages, list) else [messages]
            fields.setdefault(ELEMENTS.get(key, f"Appointment.{key}"), []).extend(listed)
        raise FhirError(400, error.detail, fields=fields) from None
