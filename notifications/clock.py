"""Local wall-clock arithmetic for messages: reminders keep the patient's local time across a
DST change, and text messages wait out the quiet hours of the location's zone."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def at_local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day` at wall-clock `at` in `zone`, as UTC. A time the clocks skip moves on by the
    gap (02:30 on a spring-forward night is 03:30); a repeated one is its first occurrence."""
    # fold=0 (PEP 495): a repeated time is its first occurrence, and a skipped one is read
    # with the offset from before the jump, which lands it the gap's length later.
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


def wall_clock_before(start: datetime, hours: int, zone: ZoneInfo) -> datetime:
    """`hours` before `start` on the local wall clock: a 24-hour reminder for 09:00 goes out
    at 09:00 the day before, even when a DST change makes that day 23 or 25 hours long."""
    local = start.astimezone(zone).replace(tzinfo=None) - timedelta(hours=hours)
    return at_local(local.date(), local.time(), zone)


def in_quiet_hours(moment: datetime, zone: ZoneInfo, quiet_start: time, quiet_end: time) -> bool:
    local = moment.astimezone(zone).time()
    if quiet_start <= quiet_end:  # a window inside one day, e.g. 13:00-14:00
        return quiet_start <= local < quiet_end
    return local >= quiet_start or local < quiet_end


def after_quiet_hours(moment: datetime, zone: ZoneInfo, quiet_start: time, quiet_end: time):
    """`moment` if it is outside the quiet hours, else the local time they end."""
    if not in_quiet_hours(moment, zone, quiet_start, quiet_end):
        return moment
    local = moment.astimezone(zone)
    day = local.date()
    if quiet_start > quiet_end and local.time() >= quiet_start:
        day += timedelta(days=1)  # evening: the quiet hours end tomorrow morning
    return at_local(day, quiet_end, zone)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
