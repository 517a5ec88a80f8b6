"""A medicine hold as the patient reads it, in the active language, put together from the
structured values the safety check keeps with its finding (procedures/holds.py), so that
a Spanish-speaking patient reads Spanish on the portal and in messages whatever language
the booking ran in. The stored English sentence stays for findings older than these values.
"""

import re
from datetime import date
from typing import Any

from django.utils.translation import get_language, gettext, ngettext

from clinic.core.spoken_dates import on_page

# The restart column's simple forms: "24 hours", "12-24 hours". Anything longer is a
# manager's own words, which only English readers get verbatim.
HOURS = re.compile(r"(\d+)(?:\s*-\s*(\d+))?\s*hours?", re.IGNORECASE)
ENGLISH = "en"


def _reading_english() -> bool:
    return (get_language() or ENGLISH).split("-")[0] == ENGLISH


def hold_details(
    *, medication: str, procedure_on: date, inr_test_from: date | None
) -> dict[str, str]:
    """What a patient's hold sentence needs beyond the finding's dates."""
    details = {"medication": medication, "procedure_on": procedure_on.isoformat()}
    if inr_test_from is not None:
        details["inr_test_from"] = inr_test_from.isoformat()
    return details


def _day(iso: str) -> str:
    return on_page(date.fromisoformat(iso), "full_day")


def _hours(text: str) -> str | None:
    """The restart interval in the reader's words; None when only the rule's own text says it."""
    match = HOURS.fullmatch(text.strip())
    if match is None:
        return text.strip() if _reading_english() else None
    low, high = match.group(1), match.group(2)
    amount = f"{low}-{high}" if high else low
    return ngettext("%(amount)s hour", "%(amount)s hours", int(high or low)) % {"amount": amount}


def _restart(details: dict[str, Any]) -> str:
    amount = _hours(details.get("restart_after") or "")
    if not amount:
        return gettext("Ask your clinician when to start it again.")
    if details.get("restart_on"):
        return gettext(
            "Start it again on %(day)s (%(amount)s after the procedure), unless your "
            "clinician tells you otherwise."
        ) % {"day": _day(details["restart_on"]), "amount": amount}
    return gettext(
        "Start it again %(amount)s after the procedure, unless your clinician tells you otherwise."
    ) % {"amount": amount}


def _stop(details: dict[str, Any]) -> list[str]:
    values = {
        "medication": details["medication"],
        "procedure_day": _day(details["procedure_on"]),
    }
    if "last_dose" not in details:
        return [
            gettext(
                "%(medication)s: take your last dose at least %(hours)s hours before your "
                "procedure on %(procedure_day)s."
            )
            % (values | {"hours": details["hold_hours"]})
        ]
    lines = [
        gettext(
            "%(medication)s: take your last dose on %(last_dose)s. Do not take it from "
            "%(first_day)s until after your procedure on %(procedure_day)s."
        )
        % (
            values
            | {
                "last_dose": _day(details["last_dose"]),
                "first_day": _day(details["first_day_without"]),
            }
        )
    ]
    if details.get("inr_test_from"):
        lines.append(
            gettext("You need a blood test (INR) on or after %(day)s.")
            % {"day": _day(details["inr_test_from"])}
        )
    return lines


def patient_hold_text(details: dict[str, Any]) -> str | None:
    """The hold in the patient's words in the active language, or None when the
    finding has no patient wording of its own (the caller then shows what it stored)."""
    if not details.get("medication") or not details.get("procedure_on"):
        return None
    return " ".join([*_stop(details), _restart(details)])
