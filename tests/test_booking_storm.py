"""Never a 500 under contention: 200 bookings and reschedules from 20 threads at once, each
on its own connection, on four overlapping times of three providers who share the one
procedure room, for 40 patients. Every attempt ends booked (or moved) or as a 409, and
PostgreSQL holds no two visits that overlap for a provider, a room or a patient."""

import threading
from collections import Counter

import pytest
from django.db import connection

from clinic.core.errors import Conflict
from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory
from scheduling.models import Appointment
from scheduling.overlaps import overlapping_pairs
from scheduling.services import appointment_book, appointment_reschedule
from scheduling.tests.factories import one_room_clinic

pytestmark = pytest.mark.django_db(transaction=True)

THREADS, ROUNDS = 20, 10
PATIENTS = 40


@pytest.fixture
def site(db):
    return one_room_clinic([PatientFactory() for _ in range(PATIENTS)])


def attempt(site, number: int, mine: list[Appointment]) -> str:
    """Book, or every third round move the thread's last booking to another of the times."""
    provider = site["providers"][number % 3]
    start = site["starts"][(number // 3) % 4]
    try:
        if mine and number % 3 == 2:
            moved = appointment_reschedule(appointment=mine[-1], start=start, by=Actor.system())
            mine[-1] = moved
            return "moved"
        mine.append(
            appointment_book(
                patient=site["patients"][number % PATIENTS],
                appointment_type=site["type"],
                provider=provider,
                location=site["location"],
                room=site["room"],
                start=start,
                by=Actor.system(),
            )
        )
        return "booked"
    except Conflict as conflict:
        return f"409 {conflict.code}"
    except Exception as error:  # a 500 in production: the failure this test is about
        return f"error {error!r}"


def test_a_storm_of_bookings_and_moves_gets_only_bookings_and_409s(site):
    outcomes: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def run(thread: int) -> None:
        mine: list[Appointment] = []
        try:
            barrier.wait(timeout=60)
            for round_ in range(ROUNDS):
                outcome = attempt(site, thread * ROUNDS + round_, mine)
                with lock:
                    outcomes[outcome] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an attempt never finished"

    assert sum(outcomes.values()) == THREADS * ROUNDS
    assert set(outcomes) <= {"booked", "moved", "409 slot_taken", "409 patient_busy"}, outcomes
    assert outcomes["booked"] >= 1 and outcomes["409 slot_taken"] >= 1, outcomes
    assert overlapping_pairs() == 0
