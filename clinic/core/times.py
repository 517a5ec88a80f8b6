"""Times as staff read them: in a location's own zone, with the zone's short US name
("Tue Dec 15, 9:30 AM MT"). Used by the templates (templatetags/clinic_time.py) and by the
services' messages alike."""

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import get_timezone_name
from django.conf import settings
from django.utils.translation import get_language, to_locale

# zoneinfo's abbreviations mapped to the names US patients and staff use.
SHORT_NAMES = {
    "EST": "ET",
    "EDT": "ET",
    "CST": "CT",
    "CDT": "CT",
    "MST": "MT",
    "MDT": "MT",
    "PST": "PT",
    "PDT": "PT",
    "AKST": "AKT",
    "AKDT": "AKT",
    "HST": "HT",
    "HDT": "HT",
}
FORMATS = {
    "full": "%a %b %-d, %-I:%M %p",
    "time": "%-I:%M %p",
    "short": "%Y-%m-%d %H:%M",
}


def zone_of(where: object) -> tzinfo:
    """The zone of a location, a zone or a zone's name; the clinic's default otherwise."""
    if isinstance(where, tzinfo):
        return where
    zone = getattr(where, "zone", None)
    if isinstance(zone, tzinfo):
        return zone
    name = where if isinstance(where, str) and where else settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def short_zone_name(moment: datetime) -> str:
    """The short name: MT for a Denver time in winter or summer; the abbreviation itself elsewhere."""
    abbreviation = moment.tzname() or ""
    return SHORT_NAMES.get(abbreviation, abbreviation)


def format_local(value: object, where: object = None, style: str = "full") -> str:
    if not isinstance(value, datetime):
        return ""
    if value.tzinfo is None:  # never expected (USE_TZ); shown as it is rather than guessed
        return value.strftime(FORMATS[style])
    moment = value.astimezone(zone_of(where))
    return f"{moment.strftime(FORMATS[style])} {short_zone_name(moment)}"


def zone_for_people(moment: datetime, where: object = None) -> str:
    """The zone as people name it, in the active language: "Mountain Time" for Denver (in
    winter and summer alike), "hora de las Montañas Rocosas" in Spanish (CLDR, via babel)."""
    local = moment.astimezone(zone_of(where))
    try:
        language = Locale.parse(to_locale(get_language() or settings.LANGUAGE_CODE))
    except (ValueError, UnknownLocaleError):
        language = Locale.parse("en_US")
    return get_timezone_name(local, "long", zone_variant="generic", locale=language)
