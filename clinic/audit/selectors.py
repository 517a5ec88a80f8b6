import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from pghistory.models import Events

from .models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    patient_id: uuid.UUID | None = None
    username: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events(query: AuditFilter) -> QuerySet[AuditEvent]:
    """Audit rows, newest first, narrowed by patient, username, action and dates (the end day
    included), read in the clinic's zone."""
    events = AuditEvent.objects.all()
    if query.patient_id is not None:
        events = events.filter(patients__contains=[query.patient_id])
    if query.username:
        events = events.filter(username__iexact=query.username)
    if query.action:
        events = events.filter(action=query.action)
    if query.start is not None:
        events = events.filter(at__gte=_day_start(query.start))
    if query.end is not None:
        events = events.filter(at__lt=_day_start(query.end + timedelta(days=1)))
    return events.order_by("-at")


def audit_event_changes(event: AuditEvent) -> list[dict[str, Any]]:
    """What the request wrote: the django-pghistory events filed under its request id, each with
    the table, the kind of event and the fields as they were and became."""
    rows = Events.objects.filter(pgh_context__request_id=str(event.request_id)).order_by(
        "pgh_created_at"
    )
    return [
        {
            "at": row.pgh_created_at,
            "model": row.pgh_model,
            "label": row.pgh_label,
            "object": row.pgh_obj_id,
            "data": row.pgh_data,
            "diff": row.pgh_diff,
        }
        for row in rows
    ]
