"""A calendar file sent with an email: what a subject's app makes (registry.py) and what the
email channel attaches (channels.py)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Invite:
    """An iCalendar file; `method` is its METHOD (REQUEST, CANCEL)."""

    method: str
    text: str
