"""`offer_at` answers for one start what `free_slots` over that day answers for all of them:
the same starts offered, with the same room, whatever the hours, exceptions, opening hours,
visits, buffers, steps, notice and DST change; in one statement."""

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patients.tests.factories import PatientFactory
from scheduling.availability import Need, free_slots, offer_at
from scheduling.models import Appointment, ExceptionKind, ScheduleException, WorkingHours
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from sites.models import OpeningHours

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2030, 1, 7)
SPRING_FORWARD = date(2030, 3, 10)  # 2:00 does not happen in Chicago
FALL_BACK = date(2030, 11, 3)  # 1:00-2:00 happens twice


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=CHICAGO)


@pytest.fixture
def clinic(db):
    location = LocationFactory(time_zone="America/Chicago")
    return {
        "location": location,
        "doctors": [ProviderFactory(locations=[location]) for _ in range(3)],
        "rooms": [RoomFactory(location=location) for _ in range(2)],
        "type": AppointmentTypeFactory(max_horizon_days=4000, min_notice_hours=24),
        "patients": [PatientFactory() for _ in range(10)],
    }


sessions = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # provider
        st.integers(min_value=0, max_value=10),  # start hour
        st.integers(min_value=1, max_value=6),  # hours long
        st.sampled_from([None, -1, 1]),  # valid from/until: open, ended yesterday, from tomorrow
    ),
    max_size=5,
)
exceptions = st.lists(
    st.tuples(
        st.sampled_from(list(ExceptionKind)),
        st.integers(min_value=0, max_value=2),  # provider
        st.one_of(st.none(), st.tuples(st.integers(0, 11), st.integers(1, 4))),  # hours or day
    ),
    max_size=3,
)
visits = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # provider
        st.integers(min_value=-1, max_value=1),  # room (-1: none)
        st.integers(min_value=0, max_value=140),  # start, in 5 minutes from midnight
        st.integers(min_value=1, max_value=12),  # length, in 5 minutes
        st.booleans(),  # overbooked
        st.sampled_from(["booked", "completed", "cancelled", "no_show"]),
    ),
    max_size=8,
)


def make_schedule(clinic, day, hours, closed, booked, opening) -> None:
    doctors, location = clinic["doctors"], clinic["location"]
    for doctor, start, length, valid in hours:
        WorkingHours.objects.create(
            provider=doctors[doctor],
            location=location,
            weekday=day.weekday(),
            start_time=time(start),
            end_time=time(min(start + length, 23)),
            valid_from=day + timedelta(days=1) if valid == 1 else None,
            valid_until=day - timedelta(days=1) if valid == -1 else None,
        )
    for kind, doctor, span in closed:
        ScheduleException.objects.create(
            kind=kind,
            provider=doctors[doctor] if kind != ExceptionKind.HOLIDAY else None,
            location=location if kind != ExceptionKind.TIME_OFF else None,
            date=day,
            start_time=time(span[0]) if span else (time(12) if kind == "extra_session" else None),
            end_time=time(span[0] + span[1])
            if span
            else (time(14) if kind == "extra_session" else None),
        )
    if opening is not None:
        opens, weekday = opening
        OpeningHours.objects.create(
            location=location, weekday=weekday, opens=time(opens), closes=time(opens + 5)
        )
    for n, (doctor, room, offset, length, overbooked, status) in enumerate(booked):
        start = at(day, 0) + timedelta(minutes=5 * offset)
        with contextlib.suppress(IntegrityError), transaction.atomic():  # a clash is skipped
            Appointment.objects.create(
                patient=clinic["patients"][n],
                appointment_type=clinic["type"],
                provider=doctors[doctor],
                location=location,
                room=clinic["rooms"][room] if room >= 0 else None,
                start=start,
                end=start + timedelta(minutes=5 * length),
                block_start=start,
                block_end=start + timedelta(minutes=5 * length + 5),
                status=status,
                overbooked=overbooked,
                overbook_reason="squeezed in" if overbooked else "",
            )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    day=st.sampled_from([MONDAY, SPRING_FORWARD, FALL_BACK]),
    hours=sessions,
    closed=exceptions,
    booked=visits,
    opening=st.one_of(st.none(), st.tuples(st.integers(5, 10), st.integers(0, 6))),
    before=st.sampled_from([0, 10]),
    after=st.sampled_from([0, 10]),
    step=st.sampled_from([5, 15]),
    notice=st.integers(min_value=0, max_value=600),  # minutes into the day notice closes
    for_staff=st.booleans(),
    asked=st.integers(min_value=0, max_value=2),  # the provider asked about
)
def test_offer_at_offers_exactly_what_free_slots_lists(
    clinic, day, hours, closed, booked, opening, before, after, step, notice, for_staff, asked
):
    kind = clinic["type"]
    kind.buffer_before_minutes, kind.buffer_after_minutes = before, after
    kind.slot_step_minutes = step
    kind.save()
    with transaction.atomic():
        make_schedule(clinic, day, hours, closed, booked, opening)
        now = at(day, 0) + timedelta(minutes=notice)
        if not for_staff:
            now -= timedelta(hours=kind.min_notice_hours)
        listed = {
            (slot.provider.pk, slot.start): slot.room
            for slot in free_slots(
                appointment_type=kind,
                location=clinic["location"],
                start_date=day,
                end_date=day,
                now=now,
                for_staff=for_staff,
            )
        }
        need = Need.of(kind)
        doctor, first = clinic["doctors"][asked], at(day, 0).astimezone(UTC)
        for minutes in range(0, 18 * 60, 5):  # every real 5 minutes until 18:00 or so
            start = first + timedelta(minutes=minutes)
            offer = offer_at(
                appointment_type=kind,
                location=clinic["location"],
                provider=doctor,
                start=start,
                need=need,
                for_staff=for_staff,
                now=now,
            )
            key = (doctor.pk, start)
            assert (offer is not None) == (key in listed), start.astimezone(CHICAGO)
            if offer is not None:
                assert offer.room == listed[key]
        assert all(start < first + timedelta(hours=18) for _, start in listed)
        transaction.set_rollback(True)


def test_offer_at_is_one_statement_whatever_the_clinic(clinic, django_assert_num_queries):
    for doctor in clinic["doctors"]:
        WorkingHours.objects.create(
            provider=doctor,
            location=clinic["location"],
            weekday=MONDAY.weekday(),
            start_time=time(8),
            end_time=time(12),
        )
    kind = clinic["type"]
    with django_assert_num_queries(1):
        offer = offer_at(
            appointment_type=kind,
            location=clinic["location"],
            provider=clinic["doctors"][0],
            start=at(MONDAY, 9),
            need=Need.of(kind),
            for_staff=True,
            now=at(MONDAY, 7),
        )
    assert offer is not None and offer.room == min(clinic["rooms"], key=lambda room: room.name)
