"""Dates and times as patients read them, in the active language (English or Spanish):

    visit_when(start, zone)  -> "Monday 7 December at 9:30 a.m." | "lunes 7 de diciembre a las 9:30 a. m."
    day_and_month(day)       -> "Monday 7 December"              | "lunes 7 de diciembre"
    long_day(day)            -> "Monday, December 7, 2026"       | "lunes, 7 de diciembre de 2026"

Spanish names, order and "a. m." come from the Unicode CLDR through Babel; English keeps
the wording the clinic's messages have always used. Staff times are clinic/core/times.py.
"""

from datetime import date, datetime, tzinfo

from babel.dates import format_date, format_datetime
from django.utils import translation

SPANISH_PATTERNS = {
    "visit_when": "EEEE d 'de' MMMM 'a las' h:mm a",
    "day_and_month": "EEEE d 'de' MMMM",
}


def _spanish() -> bool:
    return (translation.get_language() or "en").split("-")[0] == "es"


def _plain_spaces(text: str) -> str:
    # CLDR puts narrow and no-break spaces in "a. m.": ordinary ones read the same and
    # keep a text message in one encoding.
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def visit_when(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    if _spanish():
        return _plain_spaces(format_datetime(local, SPANISH_PATTERNS["visit_when"], locale="es"))
    return f"{local:%A %-d %B} at {local:%-I:%M %p}".replace("AM", "a.m.").replace("PM", "p.m.")


def day_and_month(day: date) -> str:
    if _spanish():
        return format_date(day, SPANISH_PATTERNS["day_and_month"], locale="es")
    return f"{day:%A %-d %B}"


def long_day(day: date) -> str:
    return format_date(day, "full", locale="es" if _spanish() else "en_US")
