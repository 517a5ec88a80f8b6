"""Every resource the API sends passes through the R4 models of `fhir.resources` (its R4B
package, docs/decisions: FHIR R4 API): a resource that does not validate is a bug that
fails here, never a malformed answer on the wire."""

from typing import Any

from fhir.resources.R4B import get_fhir_model_class


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as its model serializes it, after validation (empty elements dropped)."""
    model = get_fhir_model_class(resource["resourceType"])
    return model.model_validate(resource).model_dump(mode="json")


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
