"""The FHIR R4 REST API: /fhir/metadata, search (GET /fhir/<type>), read (GET
/fhir/<type>/<id>) and booking (POST /fhir/Appointment). DRF views for the clinic's token and
session sign-in; every answer is application/fhir+json, every resource validated against
the R4 models before it leaves, every error an OperationOutcome."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.core.errors import DomainError, ValidationFailed
from clinic.core.parsers import BoundedJSONParser
from clinic.core.ratelimit import BookingThrottle
from clinic.users.access import signed_in_user

from .booking import appointment_create
from .bundle import refuse_private_in_url, searchset
from .capability import capability_statement
from .outcome import FhirError, operation_outcome
from .registry import KINDS, Kind
from .sources import require_signed_in_role
from .validate import validated
from .visits import appointment_resource

FHIR_JSON = "application/fhir+json"


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON


class FhirJSONParser(BoundedJSONParser):
    media_type = FHIR_JSON


def _outcome_of(exc: Exception) -> tuple[int, str, dict] | None:
    if isinstance(exc, FhirError):
        return exc.status, exc.diagnostics, exc.fields
    if isinstance(exc, DjangoValidationError):
        exc = ValidationFailed.from_django(exc)
    if isinstance(exc, DomainError):
        return exc.status_code, f"{exc.code}: {exc.detail}", exc.fields
    if isinstance(exc, Http404):
        return 404, "Not found.", {}
    if isinstance(exc, PermissionDenied):
        return 403, str(exc) or "Permission denied.", {}
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"request": exc.detail}
        return 400, "Some fields are not valid.", detail
    if isinstance(exc, exceptions.APIException):
        return exc.status_code, str(exc.detail), {}
    return None


def fhir_exception_handler(exc: Exception, context: dict) -> Response | None:
    found = _outcome_of(exc)
    if found is None:
        return None  # a bug: the 500 handler answers it
    status, diagnostics, fields = found
    headers: dict[str, str] = {}
    if isinstance(exc, exceptions.APIException):
        auth = getattr(exc, "auth_header", None)
        wait = getattr(exc, "wait", None)
        if auth:
            headers["WWW-Authenticate"] = auth
        if wait:
            headers["Retry-After"] = str(int(wait))
    body = operation_outcome(status, diagnostics, fields, _alternatives(exc))
    return Response(body, status=status, headers=headers)


def _alternatives(exc: Exception) -> list[str]:
    """The free times a refused booking names, as notes a person can act on."""
    found = exc.extra.get("alternatives", []) if isinstance(exc, DomainError) else []
    return [f"Free nearby: {slot['start']}" for slot in found if isinstance(slot, dict)]


class FhirView(APIView):
    renderer_classes = [FhirJSONRenderer, JSONRenderer]
    parser_classes = [FhirJSONParser, BoundedJSONParser]

    def get_exception_handler(self):
        return fhir_exception_handler

    def base_url(self, request: Request) -> str:
        return request.build_absolute_uri("/fhir/")

    def fhir_response(self, resource: dict, status: int = 200, **headers: str) -> Response:
        return Response(validated(resource), status=status, headers=headers or None)


@extend_schema(exclude=True)
class MetadataView(FhirView):
    """The CapabilityStatement: public, as FHIR clients read it before signing in."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request: Request) -> Response:
        return self.fhir_response(capability_statement(self.base_url(request)))


@extend_schema(exclude=True)
class TypeView(FhirView):
    """GET: a search of one resource type; POST (Appointment only): book a visit."""

    resource_type = ""

    @property
    def kind(self) -> Kind:
        return KINDS[self.resource_type]

    def get_throttles(self) -> list:
        return [BookingThrottle()] if self.request.method == "POST" else []

    def get(self, request: Request, **_: Any) -> Response:
        refuse_private_in_url(self.kind, request.query_params)
        return self.search(request, request.query_params)

    def search(self, request: Request, query: QueryDict) -> Response:
        user = signed_in_user(request)
        require_signed_in_role(user)
        bundle = searchset(user, self.kind, query, self.base_url(request))
        for entry in bundle["entry"]:
            entry["resource"] = validated(entry["resource"])
        return self.fhir_response(bundle)

    def post(self, request: Request, **_: Any) -> Response:
        if self.resource_type != "Appointment":
            raise exceptions.MethodNotAllowed("POST")
        user = signed_in_user(request)
        appointment = appointment_create(user, request.data)
        resource = appointment_resource(appointment)
        location = f"{self.base_url(request)}Appointment/{appointment.id}"
        return self.fhir_response(resource, status=201, Location=location)


@extend_schema(exclude=True)
class SearchByPostView(TypeView):
    """POST /fhir/<type>/_search: the search with its terms in a form body (FHIR R4 3.1.1.2),
    the only way to search by a person's name, birth date or identifier."""

    parser_classes = [FormParser]

    def get_throttles(self) -> list:
        return []

    def get(self, request: Request, **_: Any) -> Response:
        raise exceptions.MethodNotAllowed("GET")

    def post(self, request: Request, **_: Any) -> Response:
        refuse_private_in_url(self.kind, request.query_params)
        query = request.query_params.copy()
        body = request.data
        if not isinstance(body, QueryDict):
            raise FhirError(415, "Send the search terms as a form body.")
        for name in body:
            query.setlist(name, body.getlist(name))
        return self.search(request, query)


@extend_schema(exclude=True)
class InstanceView(FhirView):
    """GET /fhir/<type>/<id>: one resource, or a 404 OperationOutcome whether it does not
    exist or the caller may not see it."""

    resource_type = ""

    def get(self, request: Request, **kwargs: str) -> Response:
        user = signed_in_user(request)
        require_signed_in_role(user)
        (resource_id,) = kwargs.values()
        return self.fhir_response(KINDS[self.resource_type].read(user, resource_id))


@extend_schema(exclude=True)
class UnknownView(FhirView):
    """Any other path under /fhir/: a 404 OperationOutcome (not the site's HTML page)."""

    permission_classes = [AllowAny]

    def get(self, request: Request, **_: Any) -> Response:
        raise FhirError(404, f"No FHIR endpoint at {request.path}.")

    post = put = patch = delete = get
