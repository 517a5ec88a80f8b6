"""Reads for the clinician's worklist and the managers' chart-access log.

Each section is one query (plus one for the locations' time zones), whatever the number of
rows, so the page's query count is fixed; the tests hold it to that.
"""

import operator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import reduce
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from patients.models import IntakeSubmission, UrgentFlag
from patients.selectors import intake_queue
from patients.urgent import reason_label
from procedures.models import ProcedureOutcome, SafetyThreshold
from scheduling.models import Appointment, AppointmentStatus
from sites.models import Location

# A follow-up survey reporting less relief than this (percent, from the pre-procedure NRS)
# is "poor relief": under the ~30% reduction that counts as a clinically important change
# in pain (Farrar 2001; /work/shared/domain/instruments.md, NRS and ODI rows). The value is
# the editable threshold `worklist_poor_relief`; this is its shipped default.
POOR_RELIEF_PERCENT = 30
POOR_RELIEF_KEY = "worklist_poor_relief"
# PGIC 5, 6 and 7 are "minimally worse", "much worse" and "very much worse"
# (patients.instruments.PGIC_ANSWERS): the patient says they are worse.
PGIC_WORSE = 5
# How far back the worklist looks for such surveys.
POOR_RELIEF_DAYS = 30
# Surveys are answered from the portal or a link in a message; the clinic's own are "clinic".
SURVEY_SOURCE = "survey"
# Appointments still on the day's list: not cancelled and not a no-show.
DAY_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_ROOM,
    AppointmentStatus.COMPLETED,
)
# At most this many rows per list section; the page says when there are more.
SECTION_LIMIT = 100


@dataclass
class Section:
    """Rows of a worklist section, and whether more rows exist than the page shows."""

    rows: list
    more: bool = False
    threshold: object = None  # the line a section is drawn by, where it has one


def _limited(queryset: QuerySet, limit: int) -> Section:
    rows = list(queryset[: limit + 1])  # one more than shown tells whether there are more
    return Section(rows=rows[:limit], more=len(rows) > limit)


def local_day_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of `now`'s calendar day in `zone` (23 or 25 hours long on
    the days clocks change)."""
    day = now.astimezone(zone).date()
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def findings_alert(findings) -> str:
    """ "block" or "warn" when the safety findings saved on an appointment hold one (the
    worst wins), else ""."""
    severities = {f.get("severity") for f in findings or [] if isinstance(f, dict)}
    if "block" in severities:
        return "block"
    if "warn" in severities:
        return "warn"
    return ""


def procedure_label(procedure_type, side: str = "", levels=None, side_display: str = "") -> str:
    """ "Lumbar transforaminal ESI, Left, L4-L5, L5-S1": name, side and levels."""
    parts = [procedure_type.name]
    if side:
        parts.append(side_display or side)
    if levels:
        parts.append(", ".join(levels))
    return ", ".join(parts)


def todays_procedures(*, now: datetime | None = None, limit: int = SECTION_LIMIT) -> Section:
    """Appointments for a procedure (with an order) today, where "today" is each location's
    own calendar day: at 21:00 in Denver it is already tomorrow in UTC and in New York.

    Each row gets `local_start` (in the location's zone), `alert` ("block", "warn" or "")
    and `procedure` (name, side and levels of the order). Two queries.
    """
    now = now or timezone.now()
    windows = []
    for location_id, zone_name in Location.objects.values_list("id", "time_zone"):
        start, end = local_day_bounds(now, ZoneInfo(zone_name))
        windows.append(Q(location_id=location_id, start__gte=start, start__lt=end))
    if not windows:
        return Section(rows=[])
    appointments = (
        Appointment.objects.filter(reduce(operator.or_, windows))
        .filter(procedure_order__isnull=False, status__in=DAY_STATUSES)
        .select_related(
            "patient", "location", "provider", "room", "procedure_order__procedure_type"
        )
        .order_by("location__name", "start", "pk")
    )
    section = _limited(appointments, limit)
    for appointment in section.rows:
        order = appointment.procedure_order
        appointment.local_start = appointment.start.astimezone(appointment.location.zone)
        appointment.alert = findings_alert(appointment.findings)
        appointment.procedure = procedure_label(
            order.procedure_type, order.side, order.levels, order.get_side_display()
        )
    return section


def urgent_intakes(*, user, limit: int = SECTION_LIMIT) -> Section:
    """Urgent intakes waiting for review, oldest first (the intake queue's own order). One
    query."""
    queue: QuerySet[IntakeSubmission] = intake_queue(user=user).filter(urgent=True)
    return _limited(queue, limit)


@dataclass
class UrgentPatient:
    """A patient with open danger signs: the flags, oldest first, with their reasons."""

    patient: object
    flags: list = field(default_factory=list)

    @property
    def since(self):
        return self.flags[0].raised_at


def urgent_patients(*, limit: int = SECTION_LIMIT) -> Section:
    """Patients with open danger signs (patients.urgent), the longest-waiting first, each
    with every open flag's reason and date. One query."""
    flags = (
        UrgentFlag.objects.filter(acknowledged_at__isnull=True)
        .select_related("patient__home_location", "intake")
        .order_by("raised_at", "pk")
    )
    section = _limited(flags, limit)
    by_patient: dict = {}
    for flag in section.rows:
        flag.label = reason_label(flag.reason)
        by_patient.setdefault(flag.patient_id, UrgentPatient(patient=flag.patient)).flags.append(
            flag
        )
    section.rows = list(by_patient.values())
    return section


def poor_relief_line():
    """The relief under which a survey is poor: the clinic's edited threshold, or 30%."""
    value = (
        SafetyThreshold.objects.filter(key=POOR_RELIEF_KEY).values_list("value", flat=True).first()
    )
    return value if value is not None else POOR_RELIEF_PERCENT


def poor_relief_surveys(*, now: datetime | None = None, limit: int = SECTION_LIMIT) -> Section:
    """Follow-up surveys of the last POOR_RELIEF_DAYS days reporting under the
    `worklist_poor_relief` threshold's relief or a PGIC of "minimally worse" or worse, newest first, each
    with its procedure record and patient. One query.

    Each row gets `procedure` (name, side and levels of the record) and `worse` (PGIC).
    """
    now = now or timezone.now()
    line = poor_relief_line()
    outcomes = (
        ProcedureOutcome.objects.filter(
            source=SURVEY_SOURCE,
            measured_at__gte=now - timedelta(days=POOR_RELIEF_DAYS),
            measured_at__lte=now,
        )
        .filter(Q(percent_relief__lt=line) | Q(pgic__gte=PGIC_WORSE))
        .select_related("record__patient", "record__procedure_type", "record__location")
        .order_by("-measured_at", "pk")
    )
    section = _limited(outcomes, limit)
    for outcome in section.rows:
        record = outcome.record
        outcome.procedure = procedure_label(
            record.procedure_type, record.side, record.levels, record.get_side_display()
        )
        outcome.worse = outcome.pgic is not None and outcome.pgic >= PGIC_WORSE
    section.threshold = line
    return section


def clinician_worklist(*, user, now: datetime | None = None) -> dict[str, Section]:
    """The four sections of the worklist page. Six queries, whatever the rows."""
    now = now or timezone.now()
    return {
        "urgent": urgent_patients(),
        "procedures": todays_procedures(now=now),
        "intakes": urgent_intakes(user=user),
        "poor_relief": poor_relief_surveys(now=now),
    }
