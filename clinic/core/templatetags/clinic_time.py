"""Times as staff read them: in a location's own zone, with the zone's short US name.

    {% load clinic_time %}
    {{ appointment.start|local:appointment.location }}   -> "Tue Dec 15, 9:30 AM MT"
    {{ appointment.start|local_time:location }}          -> "9:30 AM MT"
    {{ message.sent_at|local_short:location }}           -> "2026-12-15 09:30 MT"

The argument is anything that knows its zone: a location (its `zone`), a `ZoneInfo` or an
IANA name. Without one (an order has no location) the clinic's default zone is used
(`settings.TIME_ZONE`, from CLINIC_DEFAULT_TIME_ZONE), never the server's.
"""

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.conf import settings

register = template.Library()

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


@register.filter
def local(value: object, where: object = None) -> str:
    """Tue Dec 15, 9:30 AM MT: the moment in the zone of `where`."""
    return format_local(value, where, "full")


@register.filter
def local_time(value: object, where: object = None) -> str:
    """9:30 AM MT."""
    return format_local(value, where, "time")


@register.filter
def local_short(value: object, where: object = None) -> str:
    """2026-12-15 09:30 MT, for tables."""
    return format_local(value, where, "short")


@register.filter
def local_date(value: object, where: object = None) -> str:
    """2026-12-15: the moment's local day (a timestamp near midnight UTC falls on the
    location's day, not the server's)."""
    if not isinstance(value, datetime):
        return ""
    moment = value.astimezone(zone_of(where)) if value.tzinfo else value
    return moment.strftime("%Y-%m-%d")


@register.filter
def zone_name(value: object, where: object = None) -> str:
    """The short zone name of the moment at `where`: "MT"."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        return ""
    return short_zone_name(value.astimezone(zone_of(where)))
