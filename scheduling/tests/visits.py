"""Visits for tests of status moves, orders and the portal: a site that performs procedures,
an authorized order and its booked visit. Booked as the system (no offered-slot rule for the
desk to satisfy), at exact local times, through the booking service."""

from datetime import datetime, time, timedelta

from clinic.users.actor import Actor
from patients.models import Patient
from procedures import services as procedure_services
from procedures.models import ProcedureOrder, ProcedureType
from scheduling.models import Appointment, AppointmentType
from scheduling.services import appointment_book
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
    works_every_day,
)

PROCEDURE_CODE = "trigger_point"  # no levels, no side, no prior authorization


def procedure_site(zone: str = "America/Denver", code: str = PROCEDURE_CODE) -> dict:
    """A location with one provider who performs the procedure, a consult room, a room of
    the procedure's kind, a follow-up type and the procedure type."""
    location = LocationFactory(time_zone=zone, phone="+13035550100")
    provider = ProviderFactory(locations=[location])
    works_every_day(provider, location, start=time(7), end=time(19))
    kind = ProcedureType.objects.get(code=code)
    provider.procedure_types.add(kind)
    return {
        "location": location,
        "provider": provider,
        "room": RoomFactory(location=location),
        "suite": RoomFactory(location=location, kind=kind.room_kind),
        "follow_up": AppointmentTypeFactory(),
        "procedure": AppointmentTypeFactory(
            code="procedure", name="Procedure", kind="procedure", room_kind=""
        ),
        "procedure_type": kind,
    }


def authorized_order(patient: Patient, clinician) -> ProcedureOrder:
    order = procedure_services.order_create(
        patient=patient,
        procedure_type=ProcedureType.objects.get(code=PROCEDURE_CODE),
        by=Actor.desk(clinician),
        indication_code="M79.18",
        indication_text="Myofascial pain",
        auth_status="not_needed",
    )
    return procedure_services.order_authorize(order=order, by=Actor.desk(clinician))


def visit(
    site: dict,
    patient: Patient,
    start: datetime,
    *,
    order: ProcedureOrder | None = None,
    appointment_type: AppointmentType | None = None,
) -> Appointment:
    """A booked visit at `start`: a follow-up in the consult room, or the order's procedure
    in the suite."""
    if order is not None:
        kind, room = site["procedure"], site["suite"]
    else:
        kind, room = appointment_type or site["follow_up"], site["room"]
    return appointment_book(
        patient=patient,
        appointment_type=kind,
        provider=site["provider"],
        location=site["location"],
        room=room,
        start=start,
        by=Actor.system(),
        procedure_order=order,
    )


def procedure_visit(order: ProcedureOrder, days_ahead: int, hour: int = 9) -> Appointment:
    """The order's procedure booked `days_ahead` days from today at `hour` o'clock, at a site
    of its own (Denver) that performs it: the booking schedules the order."""
    site = procedure_site(code=order.procedure_type.code)
    zone = site["location"].zone
    day = datetime.now(zone).date() + timedelta(days=days_ahead)
    return visit(site, order.patient, datetime.combine(day, time(hour), tzinfo=zone), order=order)
