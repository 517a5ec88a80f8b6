"""Run by tests/test_replica.py in a child process whose settings name a primary
(DATABASE_URL) and its streaming replica (DATABASE_REPLICA_URL). With the replica's replay
paused, one desk user books a slot and another does not: what each then reads, and from
which server, is printed as one JSON line for the test to check.

    python -m tests.replica_scenario
"""

import json
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.test")
django.setup()

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from clinic.core.dbrouter import REPLICA_DB_ALIAS  # noqa: E402
from clinic.users.roles import Role  # noqa: E402
from clinic.users.services import user_upsert  # noqa: E402
from patients.tests.factories import PatientFactory  # noqa: E402
from scheduling.tests.factories import (  # noqa: E402
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
    works_every_day,
)

PROGRESS_TIMEOUT_SECONDS = 30
APPOINTMENTS = re.compile(r"\bscheduling_appointment\b")  # not scheduling_appointmenttype


def scalar(alias: str, sql: str, params: list | None = None) -> Any:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PROGRESS_TIMEOUT_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def replica_caught_up() -> None:
    position = scalar("default", "SELECT pg_current_wal_lsn()::text")
    wait_until(
        lambda: scalar(
            REPLICA_DB_ALIAS, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position]
        ),
        "the replica to replay the primary's changes",
    )


def pause_replay() -> None:
    scalar(REPLICA_DB_ALIAS, "SELECT pg_wal_replay_pause()::text")
    wait_until(
        lambda: scalar(REPLICA_DB_ALIAS, "SELECT pg_get_wal_replay_pause_state()") == "paused",
        "the replica to pause its replay",
    )


def read(client: APIClient, path: str, query: dict) -> dict:
    """The answer, and on which server its queries and its reads of the appointments ran
    (the request's own bookkeeping, such as sign-in checks and the audit, stays on the
    primary)."""
    with (
        CaptureQueriesContext(connections["default"]) as on_primary,
        CaptureQueriesContext(connections[REPLICA_DB_ALIAS]) as on_replica,
    ):
        answer = client.get(path, query)
    assert answer.status_code == 200, answer.content
    return {
        "body": answer.json(),
        "primary_sql": [entry["sql"][:120] for entry in on_primary],
        "replica_queries": len(on_replica),
        "appointments_on_primary": appointment_reads(on_primary),
        "appointments_on_replica": appointment_reads(on_replica),
    }


def appointment_reads(queries: CaptureQueriesContext) -> int:
    return sum(bool(APPOINTMENTS.search(entry["sql"])) for entry in queries)


def starts(reading: dict) -> list[str]:
    return [row["start"] for row in reading["body"]]


def main() -> dict:
    location = LocationFactory(time_zone="America/Chicago")
    doctor = ProviderFactory(locations=[location])
    works_every_day(doctor, location)
    RoomFactory(location=location)
    kind = AppointmentTypeFactory(min_notice_hours=0)
    patient = PatientFactory()
    booker = user_upsert(username="desk-books", password="not-used-1!", role=Role.FRONT_DESK)
    watcher = user_upsert(username="desk-watches", password="not-used-1!", role=Role.FRONT_DESK)
    clinician = user_upsert(username="doc-reads", password="not-used-1!", role=Role.CLINICIAN)
    clients = {}
    for name, user in (("booker", booker), ("watcher", watcher), ("clinician", clinician)):
        clients[name] = APIClient()
        clients[name].force_authenticate(user)

    day = (datetime.now(location.zone) + timedelta(days=5)).date()
    availability = "/api/v1/availability/"
    query = {
        "appointment_type": kind.code,
        "provider": str(doctor.pk),
        "location": str(location.pk),
        "start": str(day),
        "end": str(day),
    }
    replica_caught_up()
    pause_replay()
    seen: dict[str, Any] = {
        "primary_in_recovery": scalar("default", "SELECT pg_is_in_recovery()"),
        "replica_in_recovery": scalar(REPLICA_DB_ALIAS, "SELECT pg_is_in_recovery()"),
    }
    before = read(clients["booker"], availability, query)
    slot = starts(before)[0]
    booking = clients["booker"].post(
        "/api/v1/appointments/",
        {
            "patient": str(patient.pk),
            "appointment_type": kind.code,
            "provider": str(doctor.pk),
            "location": str(location.pk),
            "start": slot,
        },
    )
    seen |= {
        "slot": slot,
        "before": before | {"offers_slot": slot in starts(before)},
        "booking_status": booking.status_code,
        "booking_set_cookie": "clinic_wrote" in booking.cookies,
    }
    for name in ("booker", "watcher"):
        reading = read(clients[name], availability, query)
        seen[f"paused_{name}"] = reading | {"offers_slot": slot in starts(reading)}

    scalar(REPLICA_DB_ALIAS, "SELECT pg_wal_replay_resume()::text")
    replica_caught_up()
    reading = read(clients["watcher"], availability, query)
    seen["resumed_watcher"] = reading | {"offers_slot": slot in starts(reading)}
    later = datetime.now(UTC) + timedelta(seconds=settings.READ_YOUR_WRITES_SECONDS + 1)
    with time_machine.travel(later, tick=True):
        reading = read(clients["booker"], availability, query)
    seen["booker_later"] = reading | {"offers_slot": slot in starts(reading)}
    history = read(clients["clinician"], f"/api/v1/patients/{patient.pk}/history/", {})
    seen["history"] = {key: history[key] for key in ("primary_sql", "replica_queries")}
    return seen


if __name__ == "__main__":
    print(json.dumps(main()))
