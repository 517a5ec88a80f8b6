"""Booking: PostgreSQL refuses overlaps whatever the code above does; the service turns
that into a 409 and never writes half a booking."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services import appointment_book, appointment_move
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)

CHICAGO = ZoneInfo("America/Chicago")


def next_monday_at(hour: int, minute: int = 0) -> datetime:
    today = datetime.now(CHICAGO).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime(monday.year, monday.month, monday.day, hour, minute, tzinfo=CHICAGO)


def book(clinic, booked_by, *, at=None, patient=None, provider=None, room=None, **extra):
    return appointment_book(
        patient=patient or PatientFactory(),
        appointment_type=clinic["type"],
        provider=provider or clinic["provider"],
        location=clinic["location"],
        room=room or clinic["room"],
        start=at or next_monday_at(9),
        by=Actor.desk(booked_by),
        **extra,
    )


@pytest.mark.django_db
class TestOverlaps:
    def test_a_booked_slot_cannot_be_booked_again_for_the_provider(self, clinic, front_desk_user):
        book(clinic, front_desk_user)
        with pytest.raises(Conflict) as caught:
            book(clinic, front_desk_user, room=clinic["other_room"])
        assert caught.value.code == "slot_taken"
        assert Appointment.objects.count() == 1

    def test_nor_for_the_room(self, clinic, front_desk_user):
        book(clinic, front_desk_user)
        with pytest.raises(Conflict) as caught:
            book(clinic, front_desk_user, provider=clinic["other_provider"])
        assert caught.value.code == "slot_taken"

    def test_nor_for_the_patient(self, clinic, front_desk_user):
        patient = PatientFactory()
        book(clinic, front_desk_user, patient=patient)
        with pytest.raises(Conflict) as caught:
            book(
                clinic,
                front_desk_user,
                patient=patient,
                provider=clinic["other_provider"],
                room=clinic["other_room"],
            )
        assert caught.value.code == "patient_busy"

    def test_the_buffer_after_holds_the_provider_and_room(self, clinic, front_desk_user):
        book(clinic, front_desk_user)  # 9:00-9:20, then 10 minutes of turnover
        with pytest.raises(Conflict):
            book(clinic, front_desk_user, at=next_monday_at(9, 25))
        assert book(clinic, front_desk_user, at=next_monday_at(9, 30))

    def test_back_to_back_is_allowed_for_a_patient(self, clinic, front_desk_user):
        clinic["type"].slot_step_minutes = 10  # so 9:20, right after 9:00-9:20, is offered
        clinic["type"].save(update_fields=["slot_step_minutes"])
        patient = PatientFactory()
        book(clinic, front_desk_user, patient=patient)
        second = book(
            clinic,
            front_desk_user,
            patient=patient,
            at=next_monday_at(9, 20),
            provider=clinic["other_provider"],
            room=clinic["other_room"],
        )
        assert second.start == next_monday_at(9, 20)

    @pytest.mark.parametrize("freed_by", [AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
    def test_cancelled_and_no_show_free_the_time(self, clinic, front_desk_user, freed_by, clock):
        first = book(clinic, front_desk_user)
        if freed_by == AppointmentStatus.NO_SHOW:
            clock.move_to(first.start + timedelta(minutes=15))  # a no-show is after the start
        appointment_move(
            appointment=first,
            to=freed_by,
            by=Actor.desk(front_desk_user),
            reason="Called to cancel",
        )
        clock.move_to(first.start - timedelta(days=1))  # before it again: its time is free
        again = book(clinic, front_desk_user, at=first.start)
        assert again.status == AppointmentStatus.BOOKED


@pytest.mark.django_db
class TestRules:
    def test_a_retry_with_the_same_key_returns_the_same_appointment(self, clinic, front_desk_user):
        patient = PatientFactory()
        first = book(clinic, front_desk_user, patient=patient, idempotency_key="req-1")
        again = book(clinic, front_desk_user, patient=patient, idempotency_key="req-1")
        assert again.pk == first.pk
        assert Appointment.objects.count() == 1

    def test_bad_bookings_are_field_errors_and_write_nothing(self, clinic, front_desk_user):
        elsewhere = ProviderFactory(locations=[LocationFactory()])
        with pytest.raises(ValidationFailed) as caught:
            book(
                clinic,
                front_desk_user,
                provider=elsewhere,
                at=next_monday_at(9) - timedelta(days=30),
            )
        assert set(caught.value.fields) == {"provider", "start"}
        with pytest.raises(ValidationFailed) as caught:
            book(clinic, front_desk_user, at=datetime(2030, 1, 7, 9, 0))  # noqa: DTZ001 - under test
        assert "time zone" in caught.value.fields["start"][0]
        assert not Appointment.objects.exists()

    def test_states_move_forward_only(self, clinic, front_desk_user, clock):
        appointment = book(clinic, front_desk_user)
        clock.move_to(appointment.start - timedelta(minutes=10))  # check-in on the day
        for to in (
            AppointmentStatus.CHECKED_IN,
            AppointmentStatus.IN_ROOM,
            AppointmentStatus.COMPLETED,
        ):
            appointment = appointment_move(
                appointment=appointment, to=to, by=Actor.desk(front_desk_user)
            )
        with pytest.raises(Conflict) as caught:
            appointment_move(
                appointment=appointment,
                to=AppointmentStatus.CANCELLED,
                by=Actor.desk(front_desk_user),
                reason="x",
            )
        assert caught.value.code == "illegal_transition"

    def test_a_cancellation_needs_a_reason(self, clinic, front_desk_user):
        appointment = book(clinic, front_desk_user)
        with pytest.raises(ValidationFailed):
            appointment_move(
                appointment=appointment,
                to=AppointmentStatus.CANCELLED,
                by=Actor.desk(front_desk_user),
            )
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.BOOKED


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_bookings_of_one_slot_make_one_appointment(clinic, front_desk_user):
    """50 threads, each on its own database connection, book the same slot for 50
    different patients at once: one wins, 49 get slot_taken, nothing else happens."""
    patients = [PatientFactory() for _ in range(50)]
    start = next_monday_at(10)
    barrier = threading.Barrier(len(patients))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(patient):
        try:
            barrier.wait(timeout=30)
            book(clinic, front_desk_user, patient=patient, at=start)
            result = "booked"
        except Conflict as conflict:
            result = conflict.code
        except Exception as error:  # anything else would be a 500: report it
            result = f"error: {error!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["booked"] + ["slot_taken"] * 49
    assert Appointment.objects.filter(start=start).count() == 1
    assert connection.vendor == "postgresql"


@pytest.mark.django_db
def test_booking_a_procedure_runs_the_safety_check_again(clinic, clinician_user, front_desk_user):
    from patients.services import clinical_entry_add
    from procedures import services as procedure_services
    from procedures.models import OrderStatus, ProcedureType

    patient = PatientFactory()
    order = procedure_services.order_create(
        patient=patient,
        procedure_type=ProcedureType.objects.get(code="mbb_ls"),
        by=Actor.desk(clinician_user),
        side="left",
        levels=["L4-L5"],
        indication_code="M47.816",
        indication_text="Lumbar facet pain",
        auth_status="not_needed",
    )
    procedure_services.order_authorize(order=order, by=Actor.desk(front_desk_user))
    suite = RoomFactory(location=clinic["location"], kind="fluoroscopy_suite")
    clinic["provider"].procedure_types.add(order.procedure_type)
    procedure = AppointmentTypeFactory(
        code="procedure", name="Procedure", kind="procedure", room_kind=""
    )
    clinical_entry_add(
        patient=patient,
        chart_list="condition",
        by=Actor.desk(clinician_user),
        kind="active_infection",
    )

    def book_procedure():
        return appointment_book(
            patient=patient,
            appointment_type=procedure,
            provider=clinic["provider"],
            location=clinic["location"],
            room=suite,
            start=next_monday_at(13),
            by=Actor.desk(front_desk_user),
            procedure_order=order,
        )

    with pytest.raises(Conflict) as caught:
        book_procedure()
    assert caught.value.code == "safety_block"
    assert not Appointment.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.AUTHORIZED

    procedure_services.order_override(
        order=order,
        finding_code="active_infection",
        reason="Treated; cleared",
        by=Actor.desk(clinician_user),
    )
    appointment = book_procedure()
    assert appointment.end - appointment.start == timedelta(minutes=20)  # the catalog's time
    assert appointment.block_end - appointment.end == timedelta(minutes=10)  # its turnover
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED
    appointment_move(
        appointment=appointment,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Patient ill",
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.AUTHORIZED


@pytest.mark.django_db
def test_a_past_visit_is_entered_with_how_it_ended(clinic, front_desk_user):
    from scheduling.services import appointment_backfill

    patient = PatientFactory()
    last_week = next_monday_at(9) - timedelta(days=14)
    fields = {
        "patient": patient,
        "appointment_type": clinic["type"],
        "provider": clinic["provider"],
        "location": clinic["location"],
        "room": clinic["room"],
        "by": Actor.desk(front_desk_user),
    }
    done = appointment_backfill(start=last_week, status=AppointmentStatus.COMPLETED, **fields)
    assert done.status == AppointmentStatus.COMPLETED
    with pytest.raises(Conflict):  # a completed visit held that time
        appointment_backfill(start=last_week, status=AppointmentStatus.COMPLETED, **fields)
    # a no-show frees its time, so it may share it
    appointment_backfill(start=last_week, status=AppointmentStatus.NO_SHOW, **fields)
    with pytest.raises(ValidationFailed) as caught:
        appointment_backfill(start=next_monday_at(9), status=AppointmentStatus.BOOKED, **fields)
    assert set(caught.value.fields) == {"start", "status"}


@pytest.mark.django_db
def test_only_the_roles_a_type_names_may_book_it(clinic, front_desk_user, clinician_user):
    clinic["type"].bookable_by = ["clinician"]
    clinic["type"].save()
    with pytest.raises(ValidationFailed) as caught:
        book(clinic, front_desk_user)
    assert "appointment_type" in caught.value.fields
    assert book(clinic, clinician_user).status == AppointmentStatus.BOOKED


@pytest.mark.django_db
def test_a_procedure_is_booked_only_with_a_provider_who_performs_it(
    clinic, clinician_user, front_desk_user
):
    from procedures import services as procedure_services
    from procedures.models import ProcedureType

    patient = PatientFactory()
    order = procedure_services.order_create(
        patient=patient,
        procedure_type=ProcedureType.objects.get(code="trigger_point"),
        by=Actor.desk(clinician_user),
        indication_code="M79.18",
        indication_text="Myofascial pain",
        auth_status="not_needed",
    )
    procedure_services.order_authorize(order=order, by=Actor.desk(front_desk_user))
    room = RoomFactory(location=clinic["location"], kind="procedure_room")
    procedure = AppointmentTypeFactory(
        code="procedure", name="Procedure", kind="procedure", room_kind=""
    )
    with pytest.raises(ValidationFailed) as caught:
        appointment_book(
            patient=patient,
            appointment_type=procedure,
            provider=clinic["provider"],
            location=clinic["location"],
            room=room,
            start=next_monday_at(11),
            by=Actor.desk(front_desk_user),
            procedure_order=order,
        )
    assert caught.value.fields["provider"] == ["This provider does not perform this procedure."]
