"""Sane bounds on what a request may ask, so an absurd date or window is a 400 naming the
field rather than an overflow (a 500) or minutes of work: birth and clinical dates from 1900,
bookings no further ahead than the horizon, availability windows no wider than a role's cap."""

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

EARLIEST_DATE = date(1900, 1, 1)
# Free text in the API: a longer value is a 400 naming the field.
NOTES_MAX = 2000
REASON_MAX = 300
# Clinical dates may be planned a little ahead (an end date); nothing is dated past this.
LATEST_YEAR = 2200


def date_bound_errors(fields: Mapping[str, object]) -> dict[str, list[str]]:
    """Field errors for the dates (or datetimes) among `fields` outside 1900..2200."""
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        if not isinstance(value, date):
            continue
        day = value.date() if isinstance(value, datetime) else value
        if day < EARLIEST_DATE:
            errors[name] = [f"Give a date from {EARLIEST_DATE:%Y-%m-%d} on."]
        elif day.year > LATEST_YEAR:
            errors[name] = [f"Give a date before {LATEST_YEAR + 1}."]
    return errors


def booking_horizon_errors(start: datetime, field: str = "start") -> dict[str, list[str]]:
    """A booking no further ahead than BOOKING_HORIZON_DAYS, for staff and patients alike."""
    days = settings.BOOKING_HORIZON_DAYS
    if start > timezone.now() + timedelta(days=days):
        return {field: [f"Book at most {days} days ahead."]}
    return {}


def availability_cap_days(*, staff: bool) -> int:
    return settings.AVAILABILITY_MAX_DAYS_STAFF if staff else settings.AVAILABILITY_MAX_DAYS_PATIENT


def availability_window_errors(start: date, end: date, *, staff: bool) -> dict[str, list[str]]:
    """Dates no earlier than a year ago nor later than the booking horizon, and a window no
    wider than the role's cap (inclusive days)."""
    today = timezone.localdate()
    earliest = today - timedelta(days=366)
    latest = today + timedelta(days=settings.BOOKING_HORIZON_DAYS + 1)
    errors: dict[str, list[str]] = {}
    for name, day in (("start", start), ("end", end)):
        if not earliest <= day <= latest:
            errors[name] = [f"Give a date from {earliest:%Y-%m-%d} to {latest:%Y-%m-%d}."]
    cap = availability_cap_days(staff=staff)
    if "end" not in errors and (end - start).days + 1 > cap:
        errors["end"] = [f"Ask for at most {cap} days at once."]
    return errors


def parse_bounded_date(text: str) -> date:
    """`date.fromisoformat`, where a date outside 1900..2200 is a ValueError too (so a page's
    own handling of a malformed date covers it)."""
    day = date.fromisoformat(text)
    if errors := date_bound_errors({"date": day}):
        raise ValueError(errors["date"][0])
    return day


def validate_sane_date(value: date) -> None:
    """A form field validator: a date (or datetime) from 1900 to 2200."""
    if errors := date_bound_errors({"date": value}):
        raise ValidationError(errors["date"][0])
