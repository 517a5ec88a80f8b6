"""Transactions that meet others: PostgreSQL's own deadlock and serialization failures are
run again as a whole transaction (never inside one), then answered as the caller says;
other refusals of the moment are a 503; advisory locks on keys queue overlapping writers."""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from clinic.core.db import is_contention, lock_keys, retry_on_contention
from clinic.core.errors import Conflict, Unavailable

pytestmark = pytest.mark.django_db(transaction=True)


def fail_with(state: str) -> None:
    """PostgreSQL itself raises the error of that SQLSTATE."""
    with connection.cursor() as cursor:
        cursor.execute(f"DO $$ BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '{state}'; END $$")


def flaky(states: list[str]):
    """A transaction that fails with each state in turn, then succeeds; counts its runs."""
    runs = []

    def write(**kwargs):
        runs.append(kwargs)
        with transaction.atomic():
            if len(runs) <= len(states):
                fail_with(states[len(runs) - 1])
            return "written"

    return write, runs


def taken(**kwargs) -> Conflict:
    return Conflict("Taken meanwhile.", code="slot_taken", asked=kwargs["slot"])


@pytest.mark.parametrize("state", ["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_runs_the_transaction_again(state):
    write, runs = flaky([state])
    assert retry_on_contention(exhausted=taken)(write)(slot=1) == "written"
    assert len(runs) == 2


def test_still_contended_after_the_attempts_is_what_the_caller_says():
    write, runs = flaky(["40P01"] * 5)
    with pytest.raises(Conflict) as refused:
        retry_on_contention(exhausted=taken, attempts=3)(write)(slot=7)
    assert len(runs) == 3
    assert refused.value.code == "slot_taken" and refused.value.extra == {"asked": 7}
    assert is_contention(refused.value.__cause__)


def test_inside_an_outer_transaction_nothing_is_retried():
    write, runs = flaky(["40001"])
    with pytest.raises(OperationalError), transaction.atomic():
        retry_on_contention(exhausted=taken)(write)(slot=1)
    assert len(runs) == 1, "only the outermost transaction can be run again"


def test_any_other_refusal_of_the_moment_is_a_503():
    write, runs = flaky(["55P03"])  # lock_not_available, e.g. a lock timeout
    with pytest.raises(Unavailable) as refused:
        retry_on_contention(exhausted=taken)(write)(slot=1)
    assert len(runs) == 1 and refused.value.status_code == 503


def test_a_real_deadlock_is_broken_and_both_transactions_finish():
    """Two transactions take two keys in opposite orders; PostgreSQL kills one and the
    decorator runs it again once the other has committed."""
    both_hold_one = threading.Barrier(2)
    runs: list[str] = []
    results: dict[str, object] = {}

    @retry_on_contention()
    def take(name: str, first: int, second: int) -> str:
        runs.append(name)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [first])
            if runs.count(name) == 1:
                both_hold_one.wait(timeout=30)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [second])
        return name

    def run(name: str, first: int, second: int) -> None:
        try:
            results[name] = take(name, first, second)
        except Exception as error:  # kept for the assertion
            results[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("a", 101, 202)),
        threading.Thread(target=run, args=("b", 202, 101)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {"a": "a", "b": "b"}
    assert len(runs) == 3, "one of them ran twice"


def test_keys_locked_in_one_transaction_make_another_wait_until_it_ends():
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                lock_keys("provider:1:2030-01-07", "room:9:2030-01-07")
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(timeout=30)
    try:
        with pytest.raises(OperationalError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            lock_keys("patient:5:2030-01-07", "room:9:2030-01-07")
        with transaction.atomic():
            lock_keys("provider:2:2030-01-07")  # other keys: no wait
    finally:
        release.set()
        holder.join(timeout=30)
    with transaction.atomic():
        lock_keys("room:9:2030-01-07")  # free again once the holder committed


def test_keys_are_only_locked_inside_a_transaction():
    with pytest.raises(RuntimeError):
        lock_keys("provider:1:2030-01-07")
