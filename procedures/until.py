"""Until when a safety finding stands, kept with the finding and worded where it is shown.

A finding stands until a date the data give (the day the payer covers a session again, the
restart after a hold), until a condition in words ("the INR is 1.4 or lower"), or it does
not expire (an allergy). A date marked `eligible` is the day the procedure becomes allowed:
once it has passed, the finding reads "eligible now" instead of a date in the past.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

DATE, CONDITION, NEVER = "date", "condition", "never"
ELIGIBLE_NOW = "Eligible now"
DOES_NOT_EXPIRE = "Does not expire"


@dataclass(frozen=True)
class Until:
    kind: str
    text: str = ""
    on: date | None = None
    eligible: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "date": self.on.isoformat() if self.on else None,
            "eligible": self.eligible,
        }


def until_date(on: date, text: str = "", *, eligible: bool = False) -> Until:
    """Until `on`; `text` says what happens that day ("covered again from then")."""
    return Until(DATE, text, on, eligible)


def until_condition(text: str) -> Until:
    """Until `text` holds, read after "Until": "the infection is treated"."""
    return Until(CONDITION, text)


def no_expiry(text: str = "") -> Until:
    return Until(NEVER, text)


def until_of_rule(text: str) -> Until:
    """A rule row's words: an empty text is a finding that does not expire."""
    return until_condition(text.strip()) if text.strip() else no_expiry()


def until_words(until: dict[str, Any] | None, today: date) -> str:
    """The stored until as a physician reads it on `today`: "Until 2026-07-01: ...",
    "Eligible now", "Until the INR is 1.4 or lower", "Does not expire". Findings saved
    before findings carried one read "" (the page leaves the line out)."""
    if not until:
        return ""
    text = until.get("text") or ""
    if until.get("kind") == NEVER:
        return f"{DOES_NOT_EXPIRE}: {text}" if text else DOES_NOT_EXPIRE
    if until.get("kind") == DATE and until.get("date"):
        on = date.fromisoformat(until["date"])
        if until.get("eligible") and on <= today:
            return ELIGIBLE_NOW
        return f"Until {on:%Y-%m-%d}: {text}" if text else f"Until {on:%Y-%m-%d}"
    return f"Until {text}" if text else ""
