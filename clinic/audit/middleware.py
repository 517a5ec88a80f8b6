"""The one place a request's patient reads are written down, and its writes labelled."""

import uuid
from collections.abc import Callable

import pghistory
from django.http import HttpRequest, HttpResponse

from clinic.core.logredact import redact
from clinic.core.ratelimit import client_ip
from clinic.users.actor import ActorChannel

from .models import AuditAction
from .reads import collecting_reads
from .services import audit_event_record

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHANNEL_BY_PREFIX = (
    ("/api/", ActorChannel.API),
    ("/fhir/", ActorChannel.API),
    ("/portal/", ActorChannel.PORTAL),
    ("/admin/", ActorChannel.ADMIN),
    ("/m/", ActorChannel.MESSAGE_LINK),
)


def channel_of(request: HttpRequest) -> ActorChannel:
    for prefix, channel in CHANNEL_BY_PREFIX:
        if request.path.startswith(prefix):
            return channel
    return ActorChannel.DESK


class AuditMiddleware:
    """Around every request: collect the patients whose rows it loads (clinic.audit.reads)
    and record one AuditEvent naming them; label every row the request writes, in the
    django-pghistory context, with the same request id, the path, address and channel."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4()
        channel = channel_of(request)
        path = redact(request.path)[:300]
        address = client_ip(request)
        with (
            collecting_reads() as patients,
            pghistory.context(
                request_id=str(request_id), url=path, address=address, channel=channel.value
            ),
        ):
            response = self.get_response(request)
        if patients or patients.figures:
            match = request.resolver_match
            audit_event_record(
                request_id=request_id,
                user=getattr(request, "user", None),
                channel=channel,
                action=AuditAction.READ if request.method in SAFE_METHODS else AuditAction.WRITE,
                method=request.method or "",
                route=(match.view_name if match else "")[:120],
                path=path,
                status=response.status_code,
                address=address,
                patients=patients,
            )
        return response
