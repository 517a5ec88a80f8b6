"""iCalendar (RFC 5545) files for calendar feeds, single-appointment downloads and email
invitations, built with the `icalendar` package.

A visit keeps one UID for its whole life, moves included; each change the patient or the
provider should see raises its SEQUENCE, so a calendar app updates the event it already
has instead of adding a second one (RFC 5546 §2.1.4). An email invitation carries METHOD
REQUEST, and METHOD CANCEL once the visit is cancelled; a feed is a published calendar
(no METHOD) whose cancelled events say STATUS:CANCELLED."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import icalendar

PRODUCT = "-//Clinic//Practice system//EN"

REQUEST, CANCEL = "REQUEST", "CANCEL"


@dataclass(frozen=True)
class Event:
    uid: str
    start: datetime
    end: datetime
    summary: str
    location: str = ""
    description: str = ""
    status: str = "CONFIRMED"
    sequence: int = 0
    organizer: str = ""  # an email address; invitations (METHOD) need one
    attendee: str = ""


def _vevent(event: Event, stamp: datetime) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    vevent.add("dtstart", event.start.astimezone(UTC))
    vevent.add("dtend", event.end.astimezone(UTC))
    vevent.add("sequence", event.sequence)
    vevent.add("summary", event.summary)
    vevent.add("status", event.status)
    if event.location:
        vevent.add("location", event.location)
    if event.description:
        vevent.add("description", event.description)
    if event.organizer:
        vevent.add("organizer", icalendar.vCalAddress(f"mailto:{event.organizer}"))
    if event.attendee:
        attendee = icalendar.vCalAddress(f"mailto:{event.attendee}")
        attendee.params["ROLE"] = icalendar.vText("REQ-PARTICIPANT")
        vevent.add("attendee", attendee)
    return vevent


def calendar(
    events: Iterable[Event], *, name: str, stamp: datetime, method: str | None = None
) -> str:
    """The calendar as text, CRLF line ends and lines folded at 75 octets."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODUCT)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(_vevent(event, stamp))
    return cal.to_ical().decode()
