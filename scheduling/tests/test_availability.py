"""Availability: working hours minus exceptions, appointments, buffers and busy rooms, in
the location's time zone, across both DST changes."""

import contextlib
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.core.errors import Conflict
from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory
from scheduling import availability
from scheduling.availability import free_slots
from scheduling.models import HOLDS_TIME, Appointment, ScheduleException, WorkingHours
from scheduling.services import appointment_book
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from sites.models import Room

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2030, 1, 7)  # far enough ahead for notice and horizon rules not to interfere
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=CHICAGO)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=CHICAGO)


@pytest.fixture
def site(db):
    location = LocationFactory(time_zone="America/Chicago")
    doctor = ProviderFactory(locations=[location])
    room = RoomFactory(location=location)
    kind = AppointmentTypeFactory(max_horizon_days=400)  # 20 minutes + 10 after, every 15
    WorkingHours.objects.create(
        provider=doctor, location=location, weekday=0, start_time=time(8), end_time=time(12)
    )
    return {"location": location, "doctor": doctor, "room": room, "type": kind}


def starts(site, day=MONDAY, **kwargs):
    slots = free_slots(
        appointment_type=site["type"], start_date=day, end_date=day, now=NOW, **kwargs
    )
    return [s.start.astimezone(CHICAGO).strftime("%H:%M") for s in slots]


def book(site, start, *, provider=None, room=None):
    return appointment_book(
        patient=PatientFactory(),
        appointment_type=site["type"],
        provider=provider or site["doctor"],
        location=site["location"],
        room=room or site["room"],
        start=start,
        by=Actor.system(),
    )


def test_slots_fill_the_session_with_the_buffer_at_the_end(site):
    found = starts(site)
    assert found[0] == "08:00" and found[-1] == "11:30"
    assert len(found) == 15
    assert starts(site, day=MONDAY + timedelta(days=1)) == [], "no hours on Tuesday"


def test_an_appointment_and_its_buffer_take_their_slots_away(site):
    Appointment.objects.all().delete()
    book(site, at(MONDAY, 9))  # holds 9:00-9:30 with its buffer
    found = starts(site)
    assert "08:30" in found and "09:30" in found
    assert not {"08:45", "09:00", "09:15"} & set(found)


def test_a_busy_room_takes_the_slot_even_from_another_provider(site):
    other = ProviderFactory(locations=[site["location"]])
    WorkingHours.objects.create(
        provider=other, location=site["location"], weekday=0, start_time=time(8), end_time=time(12)
    )
    book(site, at(MONDAY, 10), provider=other)  # the only consult room
    assert "10:00" not in starts(site, provider=site["doctor"])


@pytest.mark.parametrize(
    ("kind", "fields", "expected_first", "expected_count"),
    [
        ("time_off", {"start_time": time(8), "end_time": time(10)}, "10:00", 7),
        ("time_off", {}, None, 0),
        ("holiday", {}, None, 0),
    ],
)
def test_exceptions_remove_time(site, kind, fields, expected_first, expected_count):
    owner = {"provider": site["doctor"]} if kind == "time_off" else {"location": site["location"]}
    ScheduleException.objects.create(kind=kind, date=MONDAY, **owner, **fields)
    found = starts(site)
    assert len(found) == expected_count
    assert (found[0] if found else None) == expected_first


def test_an_extra_session_adds_time(site):
    saturday = MONDAY + timedelta(days=5)
    ScheduleException.objects.create(
        kind="extra_session",
        date=saturday,
        provider=site["doctor"],
        location=site["location"],
        start_time=time(9),
        end_time=time(10),
    )
    assert starts(site, day=saturday) == ["09:00", "09:15", "09:30"]


def test_notice_and_horizon(site):
    site["type"].min_notice_hours = 24
    site["type"].max_horizon_days = 30
    now = at(MONDAY, 9) - timedelta(hours=24)
    slots = free_slots(appointment_type=site["type"], start_date=MONDAY, end_date=MONDAY, now=now)
    assert slots[0].start == at(MONDAY, 9)
    far = free_slots(
        appointment_type=site["type"],
        start_date=MONDAY,
        end_date=MONDAY,
        now=now - timedelta(days=40),
    )
    assert far == []


@pytest.mark.parametrize(
    ("sunday", "real_hours"),
    [(date(2030, 3, 10), 2), (date(2030, 11, 3), 4)],
    ids=["spring_forward", "fall_back"],
)
def test_dst_days_offer_the_real_minutes_of_the_session(site, sunday, real_hours):
    """A session 01:00-04:00 local on a DST Sunday lasts 2 real hours in spring, 4 in fall."""
    WorkingHours.objects.create(
        provider=site["doctor"],
        location=site["location"],
        weekday=6,
        start_time=time(1),
        end_time=time(4),
    )
    slots = free_slots(appointment_type=site["type"], start_date=sunday, end_date=sunday, now=NOW)
    expected = (real_hours * 60 - 30) // 15 + 1
    assert len(slots) == expected
    for slot in slots:
        # Python subtracts two datetimes of one zone on the wall clock: compare in UTC.
        assert slot.end.astimezone(UTC) - slot.start.astimezone(UTC) == timedelta(minutes=20)
        local_start = slot.start.astimezone(CHICAGO)
        assert local_start.replace(tzinfo=None) == datetime.combine(sunday, local_start.time())
    gaps = {b.start.astimezone(UTC) - a.start.astimezone(UTC) for a, b in itertools.pairwise(slots)}
    assert gaps == {timedelta(minutes=15)}, "evenly spaced in real time"


@pytest.mark.parametrize("booked", [2, 12])
def test_availability_runs_a_fixed_number_of_queries(site, django_assert_num_queries, booked):
    WorkingHours.objects.filter(provider=site["doctor"]).update(
        start_time=time(6), end_time=time(20)
    )
    for i in range(booked):
        book(site, at(MONDAY, 6) + timedelta(minutes=30 * i))
    # locations, providers, their locations, opening hours, hours, exceptions, rooms, appointments
    with django_assert_num_queries(8):
        free_slots(
            appointment_type=site["type"],
            start_date=MONDAY,
            end_date=MONDAY + timedelta(days=6),
            now=NOW,
        )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    taken=st.lists(st.integers(min_value=0, max_value=15), max_size=6, unique=True),
    pick=st.integers(min_value=0, max_value=100),
)
def test_property_every_offered_slot_is_inside_hours_free_and_bookable(site, taken, pick):
    with transaction.atomic():
        for index in taken:
            # A neighbour may already hold it: availability must still agree.
            with contextlib.suppress(Conflict):
                book(site, at(MONDAY, 8) + timedelta(minutes=15 * index))
        slots = free_slots(
            appointment_type=site["type"], start_date=MONDAY, end_date=MONDAY, now=NOW
        )
        busy = list(Appointment.objects.values_list("block_start", "block_end"))
        for slot in slots:
            assert at(MONDAY, 8) <= slot.start and slot.end + timedelta(minutes=10) <= at(
                MONDAY, 12
            )
            assert all(slot.end + timedelta(minutes=10) <= s or slot.start >= e for s, e in busy)
        if slots:
            chosen = slots[pick % len(slots)]
            booked = book(site, chosen.start, room=chosen.room)
            assert booked.start == chosen.start
        transaction.set_rollback(True)


def test_opening_hours_clip_the_sessions(site):
    from sites.models import OpeningHours

    OpeningHours.objects.create(
        location=site["location"], weekday=0, opens=time(9), closes=time(11)
    )
    found = starts(site)
    assert found[0] == "09:00" and found[-1] == "10:30"
    OpeningHours.objects.filter(location=site["location"]).update(weekday=1)
    assert starts(site) == [], "closed on Mondays"


@pytest.mark.parametrize(("providers", "days"), [(1, 1), (6, 31)])
def test_the_query_count_does_not_grow_with_the_window_or_the_providers(
    site, django_assert_num_queries, providers, days
):
    for _ in range(providers - 1):
        doctor = ProviderFactory(locations=[site["location"]])
        WorkingHours.objects.bulk_create(
            WorkingHours(
                provider=doctor,
                location=site["location"],
                weekday=weekday,
                start_time=time(8),
                end_time=time(12),
            )
            for weekday in range(7)
        )
    for day in range(days):
        book(site, at(MONDAY + timedelta(days=day), 9))
    # providers, their locations, opening hours, hours, exceptions, rooms, appointments
    with django_assert_num_queries(7):
        slots = free_slots(
            appointment_type=site["type"],
            location=site["location"],
            start_date=MONDAY,
            end_date=MONDAY + timedelta(days=days - 1),
            now=NOW,
        )
    assert len({slot.provider for slot in slots}) == providers


# --- Brute force, the oracle ----------------------------------------------------------------


def brute_force_slots(site, kind, earliest) -> list:
    """Monday's slots the slow, obvious way: every start on the grid of the 8:00-12:00
    session, tested against every visit holding time of the provider, then the first room
    (in availability's order) free of every visit holding it."""
    holding = Appointment.objects.filter(status__in=HOLDS_TIME)
    rooms = list(
        Room.objects.filter(location=site["location"], kind=kind.room_kind, is_active=True)
    )
    before, after = (
        timedelta(minutes=kind.buffer_before_minutes),
        timedelta(minutes=kind.buffer_after_minutes),
    )
    visit, step = (
        timedelta(minutes=kind.duration_minutes),
        timedelta(minutes=kind.slot_step_minutes),
    )

    def free(visits, start, end):
        return all(end <= v.block_start or start >= v.block_end for v in visits)

    slots = []
    for doctor in site["doctors"]:
        mine = [v for v in holding if v.provider_id == doctor.pk]
        start = at(MONDAY, 8) + before
        while start + visit + after <= at(MONDAY, 12):
            block = (start - before, start + visit + after)
            room = next(
                (r for r in rooms if free([v for v in holding if v.room_id == r.pk], *block)), None
            )
            if start >= earliest and free(mine, *block) and room is not None:
                slots.append(
                    availability.Slot(
                        start.astimezone(UTC), start + visit, doctor, room, site["location"]
                    )
                )
            start += step
    return sorted(slots, key=lambda s: (s.start, s.provider.last_name, s.room.name))


@pytest.fixture
def busy_site(site):
    """Two more providers and a second room, all working 8:00-12:00 on Mondays, and a pool
    of patients (one per generated visit, so no patient overlaps)."""
    site["doctors"] = [site["doctor"]]
    for _ in range(2):
        doctor = ProviderFactory(locations=[site["location"]])
        WorkingHours.objects.create(
            provider=doctor,
            location=site["location"],
            weekday=0,
            start_time=time(8),
            end_time=time(12),
        )
        site["doctors"].append(doctor)
    site["rooms"] = [site["room"], RoomFactory(location=site["location"])]
    site["patients"] = [PatientFactory() for _ in range(12)]
    return site


visits = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # provider
        st.integers(min_value=-1, max_value=1),  # room (-1: none)
        st.integers(min_value=-6, max_value=54),  # start, in 5 minutes from 8:00
        st.integers(min_value=1, max_value=12),  # length, in 5 minutes
        st.booleans(),  # overbooked (may overlap the provider's other visits)
        st.sampled_from(["booked", "completed", "cancelled", "no_show"]),
    ),
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    schedule=visits,
    before=st.sampled_from([0, 5, 10]),
    after=st.sampled_from([0, 10]),
    step=st.sampled_from([5, 15]),
    late=st.integers(min_value=0, max_value=250),  # minutes of the session notice closes
    pick=st.integers(min_value=0, max_value=1000),
)
def test_property_the_sweep_offers_exactly_what_brute_force_finds_and_it_books(
    busy_site, schedule, before, after, step, late, pick
):
    site = busy_site
    kind = site["type"]
    kind.buffer_before_minutes, kind.buffer_after_minutes = before, after
    kind.slot_step_minutes = step
    kind.save()
    with transaction.atomic():
        for n, (doctor, room, offset, length, overbooked, status) in enumerate(schedule):
            start = at(MONDAY, 8) + timedelta(minutes=5 * offset)
            try:
                with transaction.atomic():  # a clash the constraints refuse is skipped
                    Appointment.objects.create(
                        patient=site["patients"][n],
                        appointment_type=kind,
                        provider=site["doctors"][doctor],
                        location=site["location"],
                        room=site["rooms"][room] if room >= 0 else None,
                        start=start,
                        end=start + timedelta(minutes=5 * length),
                        block_start=start - timedelta(minutes=5),
                        block_end=start + timedelta(minutes=5 * length + 5),
                        status=status,
                        overbooked=overbooked,
                        overbook_reason="squeezed in" if overbooked else "",
                    )
            except IntegrityError:
                pass
        earliest = at(MONDAY, 8) + timedelta(minutes=late)
        now = earliest - timedelta(hours=kind.min_notice_hours)
        slots = free_slots(appointment_type=kind, start_date=MONDAY, end_date=MONDAY, now=now)
        assert slots == brute_force_slots(site, kind, earliest)
        if slots:
            chosen = slots[pick % len(slots)]
            booked = appointment_book(
                patient=PatientFactory(),
                appointment_type=kind,
                provider=chosen.provider,
                location=site["location"],
                room=chosen.room,
                start=chosen.start,
                by=Actor.system(),
            )
            assert (booked.start, booked.end) == (chosen.start, chosen.end)
        transaction.set_rollback(True)
