"""Every resource the API sends is checked twice before it leaves: by the R4B models of
`fhir.resources` (pydantic: formats, cardinality, choice types; its serialization is what goes
on the wire) and then by the R4 (4.0.1) models of `fhirclient` (strict: every element must
exist in R4 with its R4 type, every required element present). See docs/decisions/0042. A
resource that fails either is a bug that fails here, never a malformed answer on the wire."""

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhirclient.models.fhirelementfactory import FHIRElementFactory


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as its model serializes it, after validation (empty elements dropped)."""
    model = get_fhir_model_class(resource["resourceType"])
    sent = model.model_validate(resource).model_dump(mode="json")
    r4_checked(sent)
    return sent


def r4_checked(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after its R4 4.0.1 model took it in strict mode (raises
    FHIRValidationError naming each element that R4 does not have or types otherwise)."""
    FHIRElementFactory.instantiate(resource["resourceType"], resource)
    return resource


def reference(resource_type: str, resource_id: object, display: str = "") -> dict[str, str]:
    ref = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def instant(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def without_empty(values: dict[str, Any]) -> dict[str, Any]:
    """The dict without its empty values, so models do not see blank strings or lists."""
    return {key: value for key, value in values.items() if value not in ("", None, [], {})}
