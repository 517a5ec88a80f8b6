"""Errors as FHIR OperationOutcome resources, with the HTTP status each answers with."""

from typing import Any

from fhir.resources.R4B.operationoutcome import OperationOutcome

# HTTP status -> the OperationOutcome issue type (http://hl7.org/fhir/R4/valueset-issue-type).
ISSUE_TYPE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    503: "transient",
}


class FhirError(Exception):
    """A request the FHIR API refuses; answered as an OperationOutcome with `status`."""

    def __init__(self, status: int, diagnostics: str, *, fields: dict | None = None) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.fields = fields or {}


def not_found(resource_id: str) -> FhirError:
    """The 404 for an id that does not exist or that the caller may not see (the same)."""
    return FhirError(404, f"No resource with id {resource_id!r}.")


def _issue(status: int, diagnostics: str, expression: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": "error",
        "code": ISSUE_TYPE.get(status, "exception"),
        "diagnostics": diagnostics,
    }
    if expression:
        issue["expression"] = [expression]
    return issue


def _flat(fields: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Field errors as (path, message) pairs, nested ones joined by dots."""
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            pairs += _flat(value, f"{path}.")
        elif isinstance(value, list | tuple):
            pairs += [(path, str(message)) for message in value]
        else:
            pairs.append((path, str(value)))
    return pairs


def operation_outcome(
    status: int, diagnostics: str, fields: dict | None = None, notes: list[str] | None = None
) -> dict:
    """An OperationOutcome: one issue for the whole error, then one per field message, then
    informational notes (the free times near a taken one)."""
    issues = [_issue(status, diagnostics)]
    issues += [_issue(status, message, path) for path, message in _flat(fields or {})]
    issues += [
        {"severity": "information", "code": "informational", "diagnostics": note}
        for note in notes or []
    ]
    return OperationOutcome.model_validate(
        {"resourceType": "OperationOutcome", "issue": issues}
    ).model_dump(mode="json")
