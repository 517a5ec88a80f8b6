"""The edit history of a rule row (catalog, thresholds, holds, steroids, chart rules), read
from the events django-pghistory's triggers store (procedures/models.py RULE_EVENTS).

An update stores the row as it was ("change_from") and as it became ("change_to") under one
context; the admin sets that context (who, which page), so an edit reads as who, when, field,
old value and new value. Edits made outside the admin (a shell, a migration) have no user.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model

INSERT, FROM, TO, DELETE = "insert", "change_from", "change_to", "delete"
EVENT_FIELDS = ("pgh_id", "pgh_created_at", "pgh_label", "pgh_obj", "pgh_context")


@dataclass(frozen=True)
class Edit:
    at: datetime
    who: str
    action: str  # created, changed, deleted
    field: str
    old: str
    new: str


def _tracked_fields(event: Model) -> list[str]:
    """The tracked row's fields the event copies (not the event's own pgh_ fields)."""
    return [
        f.attname
        for f in event._meta.concrete_fields
        if not f.name.startswith("pgh_") and not f.primary_key
    ]


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _who(event: Model, names: dict[str, str]) -> str:
    metadata = _metadata(event)
    user = metadata.get("user")
    if user is None:
        return "system (outside the admin)"
    return names.get(str(user), metadata.get("username") or str(user))


def _metadata(event: Model) -> dict:
    context = getattr(event, "pgh_context", None)
    return context.metadata if context is not None else {}


def _usernames(events: list[Model]) -> dict[str, str]:
    ids = {str(_metadata(e)["user"]) for e in events if _metadata(e).get("user")}
    users = get_user_model().objects.filter(pk__in=ids)
    return {str(u.pk): u.get_username() for u in users}


def _changes(before: Model, after: Model, fields: list[str]) -> list[tuple[str, str, str]]:
    return [
        (name, _shown(getattr(before, name)), _shown(getattr(after, name)))
        for name in fields
        if getattr(before, name) != getattr(after, name)
    ]


def rule_edits(obj: Model) -> list[Edit]:
    """Every recorded edit of `obj`, newest first, one line per changed field."""
    events = list(obj.events.select_related("pgh_context").order_by("pgh_id"))  # type: ignore[attr-defined]  # pghistory's related name
    if not events:
        return []
    fields = [f for f in _tracked_fields(events[0]) if f not in EVENT_FIELDS]
    names = _usernames(events)
    edits: list[Edit] = []
    before: Model | None = None
    for event in events:
        who = _who(event, names)
        if event.pgh_label == FROM:
            before = event
        elif event.pgh_label == TO and before is not None:
            for name, old, new in _changes(before, event, fields):
                edits.append(Edit(event.pgh_created_at, who, "changed", name, old, new))
            before = None
        elif event.pgh_label == INSERT:
            edits.append(Edit(event.pgh_created_at, who, "created", "", "", ""))
        elif event.pgh_label == DELETE:
            edits.append(Edit(event.pgh_created_at, who, "deleted", "", "", ""))
    return edits[::-1]
