"""Rows of several tables in one statement: the same rows the ORM loads, None for a key that
names nothing, and a patient's row noted for the read audit as any loaded row is."""

from datetime import UTC, datetime, timedelta

import pytest

from clinic.audit.reads import collecting_reads
from clinic.core.preload import rows_by_key
from patients.models import Patient
from patients.tests.factories import PatientFactory
from scheduling.models import Appointment, AppointmentType
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from sites.models import Location, Room

pytestmark = pytest.mark.django_db


def columns(row) -> dict:
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}


def test_the_rows_are_those_the_orm_loads_and_none_where_the_key_names_nothing(
    django_assert_num_queries,
):
    location = LocationFactory()
    kind = AppointmentTypeFactory(reminder_hours=[48, 2])
    start = datetime(2030, 1, 7, 15, tzinfo=UTC)
    visit = Appointment.objects.create(  # JSON and array columns go through their converters
        patient=PatientFactory(),
        appointment_type=kind,
        provider=ProviderFactory(locations=[location]),
        location=location,
        room=RoomFactory(location=location),
        start=start,
        end=start + timedelta(minutes=20),
        block_start=start,
        block_end=start + timedelta(minutes=30),
        findings=[{"code": "anticoagulant", "details": {"hold_start": "2030-01-02"}}],
    )
    lookups = [
        (Appointment, "id", visit.pk),
        (AppointmentType, "code", kind.code),
        (Location, "id", LocationFactory.build().pk),  # never saved
        (Room, "id", visit.room_id),
    ]
    with django_assert_num_queries(1):
        found, code, nothing, room = rows_by_key(lookups)
    assert columns(found) == columns(Appointment.objects.get(pk=visit.pk))
    assert columns(code) == columns(kind) and code.reminder_hours == [48, 2]
    assert nothing is None
    assert columns(room) == columns(Room.objects.get(pk=visit.room_id))
    assert not found._state.adding and found._state.db == "default"


def test_a_patients_row_read_this_way_is_noted_for_the_audit():
    patient = PatientFactory()
    with collecting_reads() as read:
        (row,) = rows_by_key([(Patient, "id", patient.pk)])
    assert row is not None and read == {patient.pk}


def test_only_a_unique_column_finds_one_row():
    with pytest.raises(ValueError, match="not a unique column"):
        rows_by_key([(Patient, "legal_last_name", "Smith")])
