"""Loading, checking and wording a message through what its subject's app registered
(registry.py). The send task asks `stale_reason` at the moment of sending, so a message
about a cancelled appointment or a taken offer is never sent."""

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from clinic.core.phones import format_phone
from clinic.core.spoken_dates import day_and_month, visit_when

from .models import LinkToken, Message, MessageKind, NotificationPolicy
from .registry import stale_check, subject_kind


def load_subject(message: Message) -> Any | None:
    return subject_kind(message.subject_type).load(message.subject_id)


def stale_reason(message: Message, subject: Any, at: datetime) -> str | None:
    """Why the message should not go out any more, or None if it still should."""
    if subject is None:
        return "What it was about no longer exists."
    if message.expires_at is not None and message.expires_at <= at:
        return "It is too late for this message."
    return stale_check(message.kind)(message, subject, at)


# --- Links that need no login ------------------------------------------------------------------


def absolute(path: str) -> str:
    return str(settings.CLINIC_BASE_URL).rstrip("/") + path


_links_to_write: ContextVar[list[LinkToken] | None] = ContextVar("links_to_write", default=None)


@contextmanager
def links_written_together() -> Iterator[None]:
    """Links made inside the block are inserted in one statement as it ends: a send task
    renders a whole batch of messages with one round trip for their links."""
    links: list[LinkToken] = []
    token = _links_to_write.set(links)
    try:
        yield
        LinkToken.objects.bulk_create(links)
    finally:
        _links_to_write.reset(token)


def new_link(*, purpose: str, message: Message, subject_id: UUID, expires_at: datetime) -> str:
    """A single-use link; the database keeps only its hash."""
    token = secrets.token_urlsafe(32)
    link = LinkToken(
        digest=token_digest(token),
        purpose=purpose,
        message=message,
        patient_id=message.patient_id,
        subject_id=subject_id,
        expires_at=expires_at,
    )
    batch = _links_to_write.get()
    if batch is None:
        link.save(force_insert=True)
    else:
        batch.append(link)
    return absolute(reverse("links:link", args=[token]))


def portal_link() -> dict[str, str]:
    return {"link": absolute(reverse("portal:home"))}


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- What it says ------------------------------------------------------------------------------


def render(message: Message, subject: Any, policy: NotificationPolicy) -> tuple[str, str]:
    """(email subject, body) for the message's channel, in the patient's language."""
    with translation.override(message.patient.language):
        return _render(message, subject, policy)


def _render(message: Message, subject: Any, policy: NotificationPolicy) -> tuple[str, str]:
    """(email subject, body) for the message's channel. Text messages and email subjects
    carry no procedure, diagnosis or medication name; email bodies may name a medication
    the patient must stop, since that is what the message is for."""
    location = message.location
    zone = location.zone if location else None
    handler = subject_kind(message.subject_type)
    context: dict[str, Any] = {
        "message": message,
        "first_name": message.patient.first_name,
        "clinic_name": settings.CLINIC_NAME,
        "location": location,
        "phone": format_phone(
            location.phone if location and location.phone else settings.CLINIC_PHONE
        ),
        "when": visit_when(handler.moment(subject), zone) if zone else "",
        "provider": getattr(subject, "provider", None),
        **handler.context(message, subject, policy),
    }
    if message.kind == MessageKind.MEDICATION_HOLD and zone:
        context["hold_day"] = day_and_month(message.due_at.astimezone(zone).date())
    base = f"notifications/{message.channel}/{message.kind}"
    body = render_to_string(f"{base}.txt", context).strip()
    if message.channel == "sms":
        return "", body
    subject_line = render_to_string(f"{base}.subject.txt", context).strip()
    return " ".join(subject_line.split()), body
