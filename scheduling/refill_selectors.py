"""Intrathecal pump refills due soon, for the staff list (scheduling/refill_views.py): each
patient's current fill (their newest pump record with a refill date) whose refill is due
within the next days or already overdue, counted in the zone of the location that filled
it, with the refill visit already booked, if any. Three queries, whatever the length."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Subquery

from patients.models import Patient, PatientStatus
from patients.selectors import patients_visible_to
from procedures.models import ProcedureRecord

from .models import Appointment, AppointmentKind, AppointmentStatus, AppointmentType

DUE_WITHIN_DAYS = 30


@dataclass(frozen=True)
class DueRefill:
    record: ProcedureRecord
    patient: Patient
    zone: ZoneInfo
    today: date
    due: date
    alarm: date | None
    booked: Appointment | None

    @property
    def days_left(self) -> int:
        return (self.due - self.today).days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left


def _current_fills(user, horizon: date) -> list[ProcedureRecord]:
    newest = (
        ProcedureRecord.objects.filter(
            patient=OuterRef("patient"),
            procedure_type__family="intrathecal",
            next_refill_due__isnull=False,
        )
        .order_by("-performed_at")
        .values("pk")[:1]
    )
    return list(
        ProcedureRecord.objects.filter(
            procedure_type__family="intrathecal",
            next_refill_due__lte=horizon,
            patient__in=patients_visible_to(user).filter(
                status=PatientStatus.ACTIVE, merged_into__isnull=True
            ),
        )
        .filter(pk=Subquery(newest))
        .select_related("patient", "location")
        .order_by("next_refill_due", "patient__legal_last_name", "patient__legal_first_name")
    )


def _booked_visits(patient_ids: list, now: datetime) -> dict:
    visits = (
        Appointment.objects.filter(
            patient_id__in=patient_ids,
            status=AppointmentStatus.BOOKED,
            appointment_type__kind=AppointmentKind.PUMP_REFILL,
            start__gte=now,
        )
        .select_related("location")
        .order_by("-start")
    )
    return {visit.patient_id: visit for visit in visits}  # the earliest wins (ordered last)


def refills_due(*, user, now: datetime, within_days: int = DUE_WITHIN_DAYS) -> list[DueRefill]:
    """Refills due in the next `within_days` days (local day of each fill's location) or
    overdue, soonest first."""
    horizon = now.date() + timedelta(days=within_days + 1)  # the widest day of any zone
    fills = _current_fills(user, horizon)
    booked = _booked_visits([r.patient_id for r in fills], now) if fills else {}
    rows = []
    for record in fills:
        zone = record.location.zone
        today = now.astimezone(zone).date()
        assert record.next_refill_due is not None
        if record.next_refill_due > today + timedelta(days=within_days):
            continue
        rows.append(
            DueRefill(
                record=record,
                patient=record.patient,
                zone=zone,
                today=today,
                due=record.next_refill_due,
                alarm=record.pump_alarm_date,
                booked=booked.get(record.patient_id),
            )
        )
    return rows


def refill_visit_type() -> AppointmentType | None:
    """The kind of visit a refill is booked as (the Book button preselects it)."""
    return (
        AppointmentType.objects.filter(kind=AppointmentKind.PUMP_REFILL, is_active=True)
        .order_by("name")
        .first()
    )
