import ipaddress
import uuid
from collections.abc import Iterable
from typing import Any

from clinic.users.actor import ActorChannel

from .models import AuditAction, AuditEvent


def _ip_or_none(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def audit_event_record(
    *,
    request_id: uuid.UUID,
    user: Any,
    channel: ActorChannel,
    action: AuditAction,
    method: str,
    route: str,
    path: str,
    status: int,
    address: str,
    patients: Iterable[uuid.UUID],
) -> AuditEvent:
    """One INSERT naming every patient whose data the request read or changed."""
    signed_in = user is not None and user.is_authenticated
    role = user.role if signed_in else None
    return AuditEvent.objects.create(
        request_id=request_id,
        user=user if signed_in else None,
        username=user.get_username() if signed_in else "",
        role=role.value if role is not None else "",
        channel=channel.value,
        action=action,
        method=method[:8],
        route=route,
        path=path,
        status=status,
        address=_ip_or_none(address),
        patients=sorted(patients),
    )
