from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from django.core import mail

from clinic.celery import app
from clinic.users.actor import Actor
from notifications.channels import LocmemSmsBackend
from patients.tests.factories import PatientFactory
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from sites.models import RoomKind

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture(autouse=True)
def empty_outboxes(settings):
    """Texts and emails sent in this process; the unit tests' send tasks go to a queue
    no worker reads, emptied afterwards."""
    LocmemSmsBackend.outbox.clear()
    mail.outbox = []
    settings.NOTIFICATIONS_QUEUE = "unit-tests-discarded"
    yield
    LocmemSmsBackend.outbox.clear()
    with redis.Redis.from_url(app.conf.broker_url, socket_timeout=2) as broker:
        broker.delete(settings.NOTIFICATIONS_QUEUE)  # a full queue would hold the dispatcher back


@pytest.fixture
def site(db):
    """A site whose provider works 7:00-18:00 every day: the desk books offered times."""
    from scheduling.models import WorkingHours

    location = LocationFactory(time_zone="America/Chicago", phone="+13125550100")
    provider = ProviderFactory(locations=[location])
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=provider,
            location=location,
            weekday=weekday,
            start_time=time(7),
            end_time=time(18),
        )
    return {
        "location": location,
        "provider": provider,
        "room": RoomFactory(location=location, kind=RoomKind.CONSULT),
        "type": AppointmentTypeFactory(min_notice_hours=0),
    }


def sms_patient(**fields):
    return PatientFactory(preferred_channel="sms", consent_sms=True, consent_email=True, **fields)


def email_patient(**fields):
    return PatientFactory(preferred_channel="email", consent_sms=True, consent_email=True, **fields)


def days_ahead_at(days: int, hour: int, minute: int = 0, zone=CHICAGO) -> datetime:
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def procedure_booking(site, patient, clinician, *, start, code="tfesi_ls"):
    """An authorized order for `code`, booked at `start` in a suite of the right kind."""
    from procedures.models import ProcedureType
    from procedures.services import order_authorize, order_create
    from scheduling.services import appointment_book
    from sites.models import Room

    kind = ProcedureType.objects.get(code=code)
    site["provider"].procedure_types.add(kind)
    suite, _ = Room.objects.get_or_create(
        location=site["location"], name=f"Suite {kind.room_kind}", defaults={"kind": kind.room_kind}
    )
    procedure = AppointmentTypeFactory(
        code="procedure", name="Procedure", kind="procedure", room_kind=kind.room_kind
    )
    order = order_create(
        patient=patient,
        procedure_type=kind,
        side="left",
        levels=["L4-L5"],
        indication_code="M54.16",
        indication_text="Lumbar radiculopathy",
        auth_status="not_needed",
        by=Actor.desk(clinician),
    )
    order = order_authorize(order=order, by=Actor.desk(clinician))
    return appointment_book(
        patient=patient,
        appointment_type=procedure,
        provider=site["provider"],
        location=site["location"],
        room=suite,
        start=start,
        by=Actor.desk(clinician),
        procedure_order=order,
    )
