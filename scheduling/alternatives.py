"""A refusal's free alternatives as people read them (read helper for the desk's pages).

The booking and reschedule services name the nearest free slots of a refused time as ids and
ISO instants (`{"provider", "room", "start", "end"}`); the calendar's drag, the booking page
and any other page show them with names and the location's wall clock. Two queries, whatever
the number of alternatives.
"""

from datetime import datetime
from typing import TypedDict

from clinic.core.ids import parse_uuid
from sites.models import Location, Provider, Room

ISO_LOCAL = "%Y-%m-%dT%H:%M:%S"


class Alternative(TypedDict):
    start: str  # the location's wall clock, ISO without a zone (what the calendar posts back)
    provider: str
    room: str
    label: str  # "Tue Dec 8, 9:30 AM"
    provider_name: str
    room_name: str


def when_label(local: datetime) -> str:
    """Tue Dec 8, 9:30 AM (no leading zeros)."""
    return f"{local:%a %b} {local.day}, {local.hour % 12 or 12}:{local:%M %p}"


def alternative_rows(alternatives: list[dict], location: Location) -> list[Alternative]:
    """The alternatives with the provider's and room's names, in the location's zone."""
    providers = Provider.objects.in_bulk([a["provider"] for a in alternatives])
    rooms = Room.objects.in_bulk([a["room"] for a in alternatives if a.get("room")])
    rows: list[Alternative] = []
    for alternative in alternatives:
        local_start = datetime.fromisoformat(alternative["start"]).astimezone(location.zone)
        provider = providers.get(parse_uuid(alternative["provider"]))
        room = rooms.get(parse_uuid(alternative.get("room")))
        rows.append(
            {
                "start": local_start.strftime(ISO_LOCAL),
                "provider": str(alternative["provider"]),
                "room": str(alternative.get("room") or ""),
                "label": when_label(local_start),
                "provider_name": provider.display_name if provider else "another provider",
                "room_name": room.name if room else "",
            }
        )
    return rows


def alternatives_text(alternatives: list[dict], location: Location) -> str:
    """One line for a page's error list: "Free nearby: Tue Dec 8, 9:30 AM with Dr. …; …"."""
    if not alternatives:
        return ""
    rows = alternative_rows(alternatives, location)
    return "Free nearby: " + "; ".join(
        f"{row['label']} with {row['provider_name']}" for row in rows
    )
