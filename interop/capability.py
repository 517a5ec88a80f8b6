"""The server's CapabilityStatement, built from the resource table (interop.registry), so it
lists exactly the reads, searches, parameters and profiles the server supports."""

from django.conf import settings

from .codes import US_CORE
from .registry import KINDS

# http://hl7.org/fhir/R4/valueset-search-param-type.html
PARAM_TYPES = {
    "_id": "token",
    "identifier": "token",
    "gender": "token",
    "status": "token",
    "code": "token",
    "service-type": "token",
    "name": "string",
    "family": "string",
    "given": "string",
    "birthdate": "date",
    "date": "date",
    "authored": "date",
    "start": "date",
}
RELEASED = "2026-12-04"
FHIR_VERSION = "4.0.1"
CREATABLE = frozenset({"Appointment"})


def _resource(name: str) -> dict:
    kind = KINDS[name]
    interactions = [{"code": "read"}, {"code": "search-type"}]
    if name in CREATABLE:
        interactions.append({"code": "create"})
    entry: dict = {
        "type": name,
        "interaction": interactions,
        "searchParam": [
            {"name": param, "type": PARAM_TYPES.get(param, "reference")}
            for param in sorted(kind.params)
        ],
    }
    if kind.profile:
        entry["supportedProfile"] = [f"{US_CORE}{kind.profile}"]
    if kind.includes:
        entry["searchInclude"] = list(kind.includes)
    return entry


def capability_statement(base: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": RELEASED,
        "publisher": settings.CLINIC_NAME,
        "kind": "instance",
        "software": {"name": "Clinic practice system"},
        "implementation": {"description": f"{settings.CLINIC_NAME} FHIR R4 API", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "US Core 6.1.0 profiles where one exists. Searches page with "
                "_count (1-100, default 20) and _offset; unsupported parameters are a 400.",
                "security": {
                    "description": "A token from POST /api/v1/auth/token/ sent as "
                    "'Authorization: Token <token>', or a signed-in session. A patient sees "
                    "only their own record; the front desk no clinical resources."
                },
                "resource": [_resource(name) for name in KINDS],
            }
        ],
    }
