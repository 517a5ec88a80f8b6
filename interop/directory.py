"""The clinic, its locations and providers as US Core Organization, Location, Practitioner
and PractitionerRole (US Core 6.1.0)."""

from django.conf import settings

from sites.models import Location, Provider

from .codes import NPI, clinic_system, profile
from .validate import reference, without_empty

ORGANIZATION_ID = "clinic"
# http://nucc.org/provider-taxonomy: Anesthesiology, Pain Medicine; PA; NP.
ROLE_CODES: dict[str, tuple[str, str]] = {
    Provider.Kind.PHYSICIAN: ("207LP2900X", "Pain Medicine (Anesthesiology)"),
    Provider.Kind.PHYSICIAN_ASSISTANT: ("363A00000X", "Physician Assistant"),
    Provider.Kind.NURSE_PRACTITIONER: ("363L00000X", "Nurse Practitioner"),
}
TAXONOMY = "http://nucc.org/provider-taxonomy"


def phone_of(number: str) -> list[dict]:
    return [{"system": "phone", "value": number, "use": "work"}] if number else []


def organization() -> dict:
    return without_empty(
        {
            "resourceType": "Organization",
            "id": ORGANIZATION_ID,
            "meta": profile("us-core-organization"),
            "active": True,
            "name": settings.CLINIC_NAME,
            "telecom": phone_of(settings.CLINIC_PHONE),
        }
    )


def location_address(location: Location) -> dict:
    return without_empty(
        {
            "line": [location.address_line] if location.address_line else [],
            "city": location.city,
            "state": location.state,
            "postalCode": location.postal_code,
            "country": "US",
        }
    )


def location_resource(location: Location) -> dict:
    return without_empty(
        {
            "resourceType": "Location",
            "id": str(location.id),
            "meta": profile("us-core-location"),
            "identifier": [{"system": clinic_system("location"), "value": location.code}],
            "status": "active" if location.is_active else "inactive",
            "name": location.name,
            "telecom": phone_of(location.phone),
            "address": location_address(location),
            "managingOrganization": reference("Organization", ORGANIZATION_ID),
        }
    )


def provider_identifiers(provider: Provider) -> list[dict]:
    if provider.npi:
        return [{"system": NPI, "value": provider.npi}]
    return [{"system": clinic_system("provider"), "value": str(provider.id)}]


def practitioner_resource(provider: Provider) -> dict:
    name = without_empty(
        {
            "family": provider.last_name,
            "given": [provider.first_name],
            "suffix": [provider.credentials] if provider.credentials else [],
        }
    )
    return {
        "resourceType": "Practitioner",
        "id": str(provider.id),
        "meta": profile("us-core-practitioner"),
        "identifier": provider_identifiers(provider),
        "active": provider.is_active,
        "name": [name],
    }


def role_resource(provider: Provider) -> dict:
    """The provider's role at the clinic (one per provider, sharing its id); its locations
    come from `provider.locations` (prefetched by the search)."""
    code, display = ROLE_CODES.get(provider.kind, ROLE_CODES[Provider.Kind.PHYSICIAN])
    locations = list(provider.locations.all())
    phones = [loc.phone for loc in locations if loc.phone] or [settings.CLINIC_PHONE]
    return without_empty(
        {
            "resourceType": "PractitionerRole",
            "id": str(provider.id),
            "meta": profile("us-core-practitionerrole"),
            "active": provider.is_active,
            "practitioner": reference("Practitioner", provider.id, provider.display_name),
            "organization": reference("Organization", ORGANIZATION_ID),
            "code": [{"coding": [{"system": TAXONOMY, "code": code, "display": display}]}],
            "specialty": [{"coding": [{"system": TAXONOMY, "code": code, "display": display}]}],
            "location": [reference("Location", loc.id, loc.name) for loc in locations],
            "telecom": phone_of(phones[0]),
        }
    )
