"""Dates and times as patients read them, in the active language (English or Spanish):

    visit_when(start, zone)  -> "Monday 7 December at 9:30 a.m." | "lunes 7 de diciembre a las 9:30 a. m."
    day_and_month(day)       -> "Monday 7 December"              | "lunes 7 de diciembre"
    long_day(day)            -> "Monday, December 7, 2026"       | "lunes, 7 de diciembre de 2026"

Spanish names, order and "a. m." come from the Unicode CLDR through Babel; English keeps
the wording the clinic's messages have always used. Staff times are clinic/core/times.py.

Pages show moments in a few shapes (PAGE_STYLES, the `spoken` template filter): English as
the portal has always shown them (Django's date formats), Spanish in the same shape:

    on_page(moment, "day_time")  -> "Monday 7 December, 9:30 AM"  | "lunes 7 de diciembre, 9:30 a. m."
"""

from datetime import date, datetime, tzinfo

from babel.dates import format_date, format_datetime
from django.utils import dateformat, translation

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


# style: (English as a Django date format, Spanish as a CLDR pattern)
PAGE_STYLES: dict[str, tuple[str, str]] = {
    "time": ("g:i A", "h:mm a"),
    "day": ("l j F", "EEEE d 'de' MMMM"),
    "day_time": ("l j F, g:i A", "EEEE d 'de' MMMM, h:mm a"),
    "full_day": ("l j F Y", "EEEE d 'de' MMMM 'de' y"),
    "full_day_time": ("l j F Y, g:i A", "EEEE d 'de' MMMM 'de' y, h:mm a"),
    "long_day_time": ("l, F j, Y, g:i A", "EEEE, d 'de' MMMM 'de' y, h:mm a"),
    "short_day_time": ("D j M, g:i A", "EEE d MMM, h:mm a"),
    "day_month": ("j F", "d 'de' MMMM"),
    "day_month_year": ("j F Y", "d 'de' MMMM 'de' y"),
    "short_day_month": ("j M", "d MMM"),
    "short_day_month_year": ("j M Y", "d MMM y"),
}


def on_page(moment: date, style: str) -> str:
    """`moment` (a date, or a datetime already in the zone to show) in one of PAGE_STYLES."""
    english, spanish = PAGE_STYLES[style]
    if not _spanish():
        return dateformat.format(moment, english)
    if isinstance(moment, datetime):
        return _plain_spaces(format_datetime(moment, spanish, locale="es"))
    return format_date(moment, spanish, locale="es")
