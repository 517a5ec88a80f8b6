"""What the outbox knows of the things messages are about: nothing, until the domain apps
tell it. Each domain app registers, in its AppConfig.ready(), how to load a subject, when a
message about it has become pointless and what the message says of it, so the outbox
imports no domain app (docs/decisions/0018-floors.md)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from .invites import Invite
from .models import Message, NotificationPolicy

StaleCheck = Callable[[Message, Any, datetime], str | None]


@dataclass(frozen=True)
class SubjectKind:
    """How the outbox handles messages about one subject type (an appointment, a record).

    load: the subject by id, or None when it no longer exists.
    moment: the time the message speaks of (the visit's start, the procedure's time).
    context: the subject's part of the template context (links, holds, preparation).
    invite: the calendar file an email about it carries, if any."""

    load: Callable[[UUID], Any | None]
    moment: Callable[[Any], datetime]
    context: Callable[[Message, Any, NotificationPolicy], dict[str, Any]]
    invite: Callable[[Message, Any], Invite | None] = lambda message, subject: None


_SUBJECTS: dict[str, SubjectKind] = {}
_STALE: dict[str, StaleCheck] = {}


def register_subject(subject_type: str, kind: SubjectKind) -> None:
    _SUBJECTS[subject_type] = kind


def register_stale_check(message_kind: str, check: StaleCheck) -> None:
    _STALE[message_kind] = check


def subject_kind(subject_type: str) -> SubjectKind:
    try:
        return _SUBJECTS[subject_type]
    except KeyError:
        raise LookupError(f"No app registered messages about {subject_type!r}.") from None


def stale_check(message_kind: str) -> StaleCheck:
    return _STALE.get(message_kind, never_stale)


def never_stale(message: Message, subject: Any, at: datetime) -> str | None:
    return None
