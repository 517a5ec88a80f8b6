"""One error shape for the whole API: {"code": ..., "detail": ..., "fields": {...}}.

Services raise DomainError subclasses; the handler turns them into the right status.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.functional import Promise
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """A business rule said no. `extra` is merged into the response body."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "invalid"

    def __init__(self, detail: str | Promise, *, code: str | None = None, fields=None, **extra):
        # A lazy translation is worded now, in the language of the request that hit the rule.
        super().__init__(str(detail))
        self.detail = str(detail)
        if code:
            self.code = code
        self.fields = fields or {}
        self.extra = extra


class ValidationFailed(DomainError):
    """Input broke a rule; `fields` maps each field (nested for item lists) to messages."""

    def __init__(self, fields: dict, detail: str = "Some fields are not valid."):
        super().__init__(detail, fields=fields)

    @classmethod
    def from_django(cls, error: DjangoValidationError) -> "ValidationFailed":
        if hasattr(error, "error_dict"):
            return cls(
                {field: [str(m) for m in msgs] for field, msgs in error.message_dict.items()}
            )
        return cls({}, detail=" ".join(error.messages))


class Forbidden(DomainError):
    """The caller's role may not do this to this object."""

    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


class Conflict(DomainError):
    """The request is valid but clashes with the current state (a taken slot, an illegal move)."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Unavailable(DomainError):
    """The database refused for a moment (a lock or statement timeout): try again shortly.
    Answered 503 with Retry-After, never a 500."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "busy"
    retry_after_seconds = 5

    def __init__(self, detail: str = "The clinic's system is busy; try again in a moment."):
        super().__init__(detail)


def error_body(code: str, detail: str, fields: dict | None = None, **extra) -> dict:
    return {"code": code, "detail": detail, "fields": fields or {}, **extra}


def _validation_body(exc: exceptions.ValidationError) -> dict:
    data = exc.detail
    if isinstance(data, dict):
        fields = {key: _messages(value) for key, value in data.items()}
        non_field = fields.pop("non_field_errors", None)
        detail = " ".join(non_field) if non_field else "Some fields are not valid."
        return error_body("invalid", detail, fields)
    return error_body("invalid", " ".join(_messages(data)))


def _messages(value):
    if isinstance(value, dict):
        return {key: _messages(inner) for key, inner in value.items()}
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            return [str(item) for item in value]
        return [_messages(item) for item in value]
    return [str(value)]


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = ValidationFailed.from_django(exc)
    if isinstance(exc, DomainError):
        body = error_body(exc.code, exc.detail, exc.fields, **exc.extra)
        headers = (
            {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, Unavailable) else None
        )
        return Response(body, status=exc.status_code, headers=headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc)
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        response.data = error_body(code, str(getattr(exc, "detail", exc)))
    return response
