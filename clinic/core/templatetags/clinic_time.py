"""Times as staff read them: in a location's own zone, with the zone's short US name.

    {% load clinic_time %}
    {{ appointment.start|local:appointment.location }}   -> "Tue Dec 15, 9:30 AM MT"
    {{ appointment.start|local_time:location }}          -> "9:30 AM MT"
    {{ message.sent_at|local_short:location }}           -> "2026-12-15 09:30 MT"

The argument is anything that knows its zone: a location (its `zone`), a `ZoneInfo` or an
IANA name. Without one (an order has no location) the clinic's default zone is used
(`settings.TIME_ZONE`, from CLINIC_DEFAULT_TIME_ZONE), never the server's.
"""

from datetime import datetime

from django import template

from clinic.core.times import format_local, short_zone_name, zone_for_people, zone_of

register = template.Library()


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


@register.filter
def zone_long(value: object, where: object = None) -> str:
    """The zone of the moment at `where` as people name it: "Mountain Time"."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        return ""
    return zone_for_people(value, where)
