"""The pump refill reminder and the refill visit: booking a refill visit cancels the
patient's pending reminder at once; cancelling that visit (or a no-show) plans it again,
unless another refill visit is still booked. The reminder itself is planned with the
refill record (procedures/messages.py); the outbox's stale check stays as the last guard."""

from django.utils import timezone

from notifications.models import MessageKind
from notifications.services import messages_cancel
from procedures.messages import refill_reminder_replan
from procedures.models import ProcedureRecord

from .models import Appointment, AppointmentKind, AppointmentStatus

REFILL_BOOKED = "A refill visit is booked."


def _is_refill_visit(appointment: Appointment) -> bool:
    return appointment.appointment_type.kind == AppointmentKind.PUMP_REFILL


def current_refill_record(patient_id) -> ProcedureRecord | None:
    """The patient's newest pump record with a refill date: the fill now in the pump."""
    return (
        ProcedureRecord.objects.filter(
            patient_id=patient_id,
            procedure_type__family="intrathecal",
            next_refill_due__isnull=False,
        )
        .select_related("location", "patient")
        .order_by("-performed_at")
        .first()
    )


def refill_visit_booked(appointment: Appointment) -> None:
    if not _is_refill_visit(appointment):
        return
    record = current_refill_record(appointment.patient_id)
    if record is not None:
        messages_cancel(subject_id=record.pk, reason=REFILL_BOOKED, kinds=[MessageKind.PUMP_REFILL])


def refill_visit_released(appointment: Appointment) -> None:
    """A refill visit cancelled or missed: the reminder comes back if nothing else is booked."""
    if not _is_refill_visit(appointment):
        return
    still_booked = (
        Appointment.objects.filter(
            patient_id=appointment.patient_id,
            status=AppointmentStatus.BOOKED,
            appointment_type__kind=AppointmentKind.PUMP_REFILL,
            start__gt=timezone.now(),
        )
        .exclude(pk=appointment.pk)
        .exists()
    )
    record = None if still_booked else current_refill_record(appointment.patient_id)
    if record is not None:
        refill_reminder_replan(record)
