"""Public ids are UUIDs. One place says what a malformed one looks like, so every lookup
by an id from a URL, a form or a query answers 404 or 400, never 500."""

from uuid import UUID

from django.core.exceptions import ValidationError

# What the ORM raises for an id that is not a UUID (besides DoesNotExist).
NOT_AN_ID = (ValueError, TypeError, ValidationError)


def parse_uuid(value: object) -> UUID | None:
    """The UUID in `value`, or None when it is missing or malformed."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None
