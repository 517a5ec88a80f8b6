"""The resource types the API serves: for each, its search parameters, where a search reads
(interop.sources) and how one resource is read by id. The CapabilityStatement is built from
this table, so it lists exactly what the server does."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.http import QueryDict

from clinic.core.bounds import availability_cap_days
from clinic.users.models import User
from patients.models import Allergy, Assessment, Condition, Medication
from patients.selectors import intakes_visible_to, patients_visible_to
from procedures.models import ProcedureOrder, ProcedureRecord
from scheduling.availability import Slot, free_slots
from scheduling.models import AppointmentType
from scheduling.selectors import appointment_types_offered_to, appointments_visible_to
from sites.models import Location, Provider

from . import params, sources
from .clinical import (
    allergy_resource,
    condition_resource,
    indication_resource,
    medication_resource,
    procedure_resource,
)
from .directory import (
    location_resource,
    organization,
    practitioner_resource,
    role_resource,
)
from .outcome import FhirError, not_found
from .patient import patient_resource
from .sources import Source, clinical_rows, one
from .surveys import assessment_response, intake_response, observations_of
from .visits import appointment_resource, parse_slot_id, schedule_resource, slot_resource

SLOT_DAYS = 7  # the days a Slot search covers when its start parameter does not say
UUID_LENGTH = 36


@dataclass(frozen=True)
class Kind:
    name: str
    params: frozenset[str]
    search: Callable[[User, QueryDict], list[Source]]
    read: Callable[[User, str], dict]
    profile: str = ""
    includes: tuple[str, ...] = ()
    # Parameters that carry a person's details (name, birth date, MRN): accepted only in a
    # POST to <type>/_search, never in a URL, which reaches access logs and browser history.
    private: frozenset[str] = frozenset()


def _params(*names: str) -> frozenset[str]:
    return frozenset({"_id", *names})


def _only(resource: dict, resource_id: str) -> dict:
    if resource["id"] != resource_id:
        raise not_found(resource_id)
    return resource


# --- Reads --------------------------------------------------------------------------------


def read_patient(user: User, resource_id: str) -> dict:
    return patient_resource(one(patients_visible_to(user), resource_id))


def read_provider(build: Callable[[Provider], dict]) -> Callable[[User, str], dict]:
    def read(user: User, resource_id: str) -> dict:
        return build(one(Provider.objects.prefetch_related("locations"), resource_id))

    return read


def read_location(user: User, resource_id: str) -> dict:
    return location_resource(one(Location.objects.all(), resource_id))


def read_appointment(user: User, resource_id: str) -> dict:
    return appointment_resource(one(appointments_visible_to(user), resource_id))


def read_procedure(user: User, resource_id: str) -> dict:
    rows = ProcedureRecord.objects.select_related(
        "procedure_type", "performer", "location", "order"
    ).prefetch_related("procedure_type__procedure_codes")
    return procedure_resource(one(clinical_rows(user, rows), resource_id))


def read_chart(rows, build: Callable) -> Callable[[User, str], dict]:
    def read(user: User, resource_id: str) -> dict:
        return build(one(clinical_rows(user, rows), resource_id))

    return read


def read_observation(user: User, resource_id: str) -> dict:
    """ "<assessment id>" is the total, "<assessment id>-<item>" one of its items."""
    assessment = one(clinical_rows(user, Assessment.objects.all()), resource_id[:UUID_LENGTH])
    found = [obs for obs in observations_of(assessment) if obs["id"] == resource_id]
    if not found:
        raise not_found(resource_id)
    return found[0]


def read_response(user: User, resource_id: str) -> dict:
    sources.require_clinical_access(user)
    intake = intakes_visible_to(user).filter(pk=_uuid_of(resource_id)).first()
    if intake is not None:
        return intake_response(intake)
    return assessment_response(one(clinical_rows(user, Assessment.objects.all()), resource_id))


def read_condition(user: User, resource_id: str) -> dict:
    found = clinical_rows(user, Condition.objects.all()).filter(pk=_uuid_of(resource_id))
    condition = found.first()
    if condition is not None:
        return condition_resource(condition)
    return indication_resource(one(clinical_rows(user, ProcedureOrder.objects.all()), resource_id))


def _uuid_of(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise not_found(text) from None


def read_organization(user: User, resource_id: str) -> dict:
    return _only(organization(), resource_id)


# --- Free slots ---------------------------------------------------------------------------


def visit_type_for(user: User, code: str) -> AppointmentType:
    """The kind of visit a Slot search or a booking names, among those the user may book."""
    found = appointment_types_offered_to(user).filter(code=code).first()
    if found is None:
        raise params.invalid("service-type", f"{code!r} is not a kind of visit you may book.")
    return found


def _slots(user: User, visit_type: AppointmentType, provider: Provider | None, days) -> list:
    staff = user.is_clinic_staff
    return free_slots(
        appointment_type=visit_type,
        start_date=days[0],
        end_date=days[1],
        provider=provider,
        for_staff=staff,
        max_days=availability_cap_days(staff=staff),
    )


def search_slots(user: User, query: QueryDict) -> list[Source]:
    codes = [code for _, code in params.token_codes(query, "service-type")]
    if len(codes) != 1:
        raise params.invalid("service-type", "name exactly one kind of visit (its code).")
    visit_type = visit_type_for(user, codes[0])
    schedules = params.ids_of(query, "schedule", "Schedule")
    provider = None
    if schedules:
        provider = Provider.objects.filter(pk=schedules[0], is_active=True).first()
        if provider is None:
            return []
    days = params.date_window(query, "start", SLOT_DAYS)
    slots = _slots(user, visit_type, provider, days)
    return [Source(rows=slots, build=lambda slot: [slot_resource(slot, visit_type)])]


def free_slot_at(
    user: User, visit_type: AppointmentType, provider: Provider, start: datetime
) -> Slot | None:
    """The free slot of this provider and kind of visit starting at `start`, if there is
    one (read again from availability)."""
    days = ((start - timedelta(days=1)).date(), (start + timedelta(days=1)).date())
    found = [slot for slot in _slots(user, visit_type, provider, days) if slot.start == start]
    return found[0] if found else None


def read_slot(user: User, resource_id: str) -> dict:
    """A slot is read again from availability: found while it is still free, else 404."""
    parts = parse_slot_id(resource_id)
    if parts is None:
        raise not_found(resource_id)
    provider_id, type_id, start = parts
    visit_type = appointment_types_offered_to(user).filter(pk=type_id).first()
    provider = Provider.objects.filter(pk=provider_id).first()
    slot = None
    if visit_type is not None and provider is not None:
        slot = free_slot_at(user, visit_type, provider, start)
    if visit_type is None or slot is None:
        raise FhirError(404, f"Slot {resource_id!r} is not free any more, or never was.")
    return slot_resource(slot, visit_type)


# --- Searches -----------------------------------------------------------------------------


def each(build: Callable) -> Callable:
    return lambda row: [build(row)]


def search_conditions(user: User, query: QueryDict) -> list[Source]:
    conditions, indications = sources.condition_rows(user, query)
    return [
        Source(rows=conditions, build=each(condition_resource)),
        Source(rows=indications, build=each(indication_resource)),
    ]


def search_observations(user: User, query: QueryDict) -> list[Source]:
    wanted = {code for _, code in params.token_codes(query, "code")}

    def build(assessment: Assessment) -> list[dict]:
        found = observations_of(assessment)
        if not wanted:
            return found
        return [obs for obs in found if wanted & {c["code"] for c in obs["code"]["coding"]}]

    rows = sources.assessment_rows(user, query)
    size = None if wanted else sources.observation_count
    return [Source(rows=rows, build=build, size=size)]


def search_responses(user: User, query: QueryDict) -> list[Source]:
    return [
        Source(rows=sources.intake_rows(user, query), build=each(intake_response)),
        Source(rows=sources.survey_rows(user, query), build=each(assessment_response)),
    ]


def single(rows_of: Callable, build: Callable) -> Callable[[User, QueryDict], list[Source]]:
    return lambda user, query: [Source(rows=rows_of(user, query), build=each(build))]


def anyone(rows_of: Callable, build: Callable) -> Callable[[User, QueryDict], list[Source]]:
    return lambda user, query: [Source(rows=rows_of(query), build=each(build))]


def search_organizations(user: User, query: QueryDict) -> list[Source]:
    found = [organization()]
    wanted = {value for text in query.getlist("_id") for value in text.split(",")}
    return [Source(rows=[o for o in found if not wanted or o["id"] in wanted], build=each(dict))]


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "Patient",
            _params("identifier", "name", "family", "given", "birthdate", "gender"),
            single(sources.patient_rows, patient_resource),
            read_patient,
            "us-core-patient",
            private=frozenset({"identifier", "name", "family", "given", "birthdate"}),
        ),
        Kind(
            "Practitioner",
            _params("identifier", "name"),
            anyone(sources.provider_rows, practitioner_resource),
            read_provider(practitioner_resource),
            "us-core-practitioner",
        ),
        Kind(
            "PractitionerRole",
            _params("practitioner"),
            anyone(sources.provider_rows, role_resource),
            read_provider(role_resource),
            "us-core-practitionerrole",
        ),
        Kind(
            "Organization",
            _params(),
            search_organizations,
            read_organization,
            "us-core-organization",
        ),
        Kind(
            "Location",
            _params("name"),
            anyone(sources.location_rows, location_resource),
            read_location,
            "us-core-location",
        ),
        Kind(
            "Schedule",
            _params("actor"),
            anyone(sources.provider_rows, schedule_resource),
            read_provider(schedule_resource),
        ),
        Kind("Slot", frozenset({"schedule", "service-type", "start"}), search_slots, read_slot),
        Kind(
            "Appointment",
            _params("patient", "subject", "practitioner", "actor", "location", "date", "status"),
            single(sources.appointment_rows, appointment_resource),
            read_appointment,
            includes=("Appointment:patient",),
        ),
        Kind(
            "Procedure",
            _params("patient", "subject", "date"),
            single(sources.procedure_rows, procedure_resource),
            read_procedure,
            "us-core-procedure",
        ),
        Kind(
            "Observation",
            _params("patient", "subject", "code", "date"),
            search_observations,
            read_observation,
            "us-core-observation-screening-assessment",
        ),
        Kind(
            "QuestionnaireResponse",
            _params("patient", "subject", "authored"),
            search_responses,
            read_response,
            "us-core-questionnaireresponse",
        ),
        Kind(
            "MedicationStatement",
            _params("patient", "subject"),
            single(sources.medication_rows, medication_resource),
            read_chart(Medication.objects.all(), medication_resource),
        ),
        Kind(
            "AllergyIntolerance",
            _params("patient"),
            single(sources.allergy_rows, allergy_resource),
            read_chart(Allergy.objects.all(), allergy_resource),
            "us-core-allergyintolerance",
        ),
        Kind(
            "Condition",
            _params("patient", "subject"),
            search_conditions,
            read_condition,
            "us-core-condition-problems-health-concerns",
        ),
    )
}
