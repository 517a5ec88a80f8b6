"""Reads for "My patients": the patients with a visit with the signed-in clinician in a
chosen window of days, each location's days in its own time zone.

Two queries whatever the number of rows (the locations' time zones, then the visits with
their patients), plus one for the user's provider; the tests hold the page to that.
"""

import operator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from scheduling.models import Appointment
from sites.models import Location, Provider

from .worklist import DAY_STATUSES, local_day_bounds

# key -> (label, first day, days after the last) relative to today; "today" is the default.
WINDOWS: dict[str, tuple[str, int, int]] = {
    "today": ("Today", 0, 1),
    "next_7": ("Today and the next 7 days", 0, 8),
    "last_7": ("The last 7 days and today", -7, 1),
    "last_30": ("The last 30 days and today", -30, 1),
}
DEFAULT_WINDOW = "today"
# At most this many visits are read; the page says when there are more.
VISIT_LIMIT = 500


@dataclass
class MyPatient:
    """A patient and their visits with the clinician in the window, earliest first."""

    patient: object
    visits: list = field(default_factory=list)


@dataclass
class MyPatients:
    window: str
    provider: Provider | None
    rows: list[MyPatient] = field(default_factory=list)
    more: bool = False


def window_key(value: str | None) -> str:
    """The asked window when it is one of WINDOWS, else the default (a bad value is not an
    error: the page simply shows today)."""
    return value if value in WINDOWS else DEFAULT_WINDOW


def provider_of(user) -> Provider | None:
    return Provider.objects.filter(user=user).first()


def _window_filter(window: str, now: datetime) -> Q | None:
    _label, first, after = WINDOWS[window]
    windows = []
    for location_id, zone_name in Location.objects.values_list("id", "time_zone"):
        zone = ZoneInfo(zone_name)
        start, _ = local_day_bounds(now + timedelta(days=first), zone)
        _, end = local_day_bounds(now + timedelta(days=after - 1), zone)
        windows.append(Q(location_id=location_id, start__gte=start, start__lt=end))
    return reduce(operator.or_, windows) if windows else None


def my_patients(*, user, window: str = DEFAULT_WINDOW, now: datetime | None = None) -> MyPatients:
    """The patients with a visit (not cancelled, not a no-show) with `user`'s provider in
    `window`, in the order of their first visit there."""
    now = now or timezone.now()
    window = window_key(window)
    provider = provider_of(user)
    result = MyPatients(window=window, provider=provider)
    in_window = _window_filter(window, now)
    if provider is None or in_window is None:
        return result
    visits = list(
        Appointment.objects.filter(in_window, provider=provider, status__in=DAY_STATUSES)
        .select_related(
            "patient", "appointment_type", "location", "room", "procedure_order__procedure_type"
        )
        .order_by("start", "pk")[: VISIT_LIMIT + 1]
    )
    result.more = len(visits) > VISIT_LIMIT
    by_patient: dict = {}
    for visit in visits[:VISIT_LIMIT]:
        row = by_patient.setdefault(visit.patient_id, MyPatient(patient=visit.patient))
        row.visits.append(visit)
    result.rows = list(by_patient.values())
    return result
