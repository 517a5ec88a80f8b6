"""What the procedure record form reads of the visit that holds an order (procedures/visits.py):
registered at start-up, so the procedures floor never imports scheduling."""

from uuid import UUID

from procedures.models import ProcedureOrder
from procedures.visits import VisitFacts, register_visit_reader

from .models import HOLDS_TIME, Appointment


def visit_of_order(order: ProcedureOrder, visit_id: UUID | None) -> VisitFacts | None:
    """The order's visit that still holds its time (the one named, when given), newest first."""
    visits = Appointment.objects.filter(procedure_order=order, status__in=HOLDS_TIME)
    if visit_id is not None:
        visits = visits.filter(pk=visit_id)
    visit = visits.select_related("location").order_by("-start").first()
    if visit is None:
        return None
    return VisitFacts(
        visit_id=visit.pk,
        local_start=visit.start.astimezone(visit.location.zone),
        location_id=visit.location_id,
        provider_id=visit.provider_id,
    )


def register() -> None:
    register_visit_reader(visit_of_order)
