"""Benchmark of the front desk's calendar window (GET /desk/calendar/events/) for a location
with 12 providers and 150 visits in a day.

Run from the project root:

    .venv/bin/python bench/calendar_window.py                 # 150 visits, 50 runs
    .venv/bin/python bench/calendar_window.py --visits 300 --repeat 100
    .venv/bin/python bench/calendar_window.py --keep          # keep clinic_bench_calendar

It never touches the dev database: like bench/patient_search.py it drops and recreates a
database of its own, clinic_bench_calendar, on the server of DATABASE_URL (default
postgres://postgres@127.0.0.1:5432), points DATABASE_URL at it before django.setup() and
migrates it. It then builds one location (America/Denver) with 12 providers working 7:00-19:00,
12 rooms and opening hours, a day of `--visits` visits spread over the providers (20 minutes
each, some checked in and in the room with their stamps, a few cancelled and no-show, some
overbooked, some patients with an urgent intake waiting, a completed earlier visit for half of
them), and `--other-days` days of the same load around it so the day is not the whole table.
After VACUUM ANALYZE it times, after one warm-up:

- calendar_selectors.calendar_window() for the day by provider, called directly;
- GET /desk/calendar/events/ for the day by provider and by room, and for a provider's week,
  with Django's test Client signed in as the front desk;

and prints p50 and p95 in milliseconds, the SQL statements of one call, the response size, the
machine's load average and the git commit. The target is under 150 ms.
"""

import argparse
import random
import uuid
from datetime import date, datetime, timedelta
from datetime import time as clock

from benchkit import machine_line, measure, own_database, vacuum_analyze

BENCH_DB = "clinic_bench_calendar"
PROVIDERS = 12
VISIT_MINUTES = 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=150, help="visits on the timed day")
    parser.add_argument("--other-days", type=int, default=30, help="days of visits around it")
    parser.add_argument("--repeat", type=int, default=50, help="timed runs per measurement")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the data")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    return parser.parse_args()


# --- The clinic ------------------------------------------------------------------------------


class Clinic:
    def __init__(self, rng: random.Random, *, code: str = "denver", kind_code: str = "follow_up"):
        from clinic.users.roles import Role
        from clinic.users.services import user_upsert
        from scheduling.models import AppointmentType, WorkingHours
        from sites.models import Location, OpeningHours, Provider, Room

        self.rng = rng
        self.location = Location.objects.create(
            code=code, name=f"{code.title()} Spine", time_zone="America/Denver"
        )
        self.providers = []
        for n in range(PROVIDERS):
            provider = Provider.objects.create(
                first_name=f"Doc{n}", last_name=f"Bench{n:02d}", credentials="MD"
            )
            provider.locations.add(self.location)
            self.providers.append(provider)
        self.rooms = [
            Room.objects.create(location=self.location, name=f"Exam {n:02d}", kind="consult")
            for n in range(PROVIDERS)
        ]
        WorkingHours.objects.bulk_create(
            WorkingHours(
                provider=p,
                location=self.location,
                weekday=d,
                start_time=clock(7),
                end_time=clock(19),
            )
            for p in self.providers
            for d in range(7)
        )
        OpeningHours.objects.bulk_create(
            OpeningHours(location=self.location, weekday=d, opens=clock(7), closes=clock(19))
            for d in range(7)
        )
        self.kind = AppointmentType.objects.create(
            code=kind_code,
            name="Follow-up",
            kind="follow_up",
            duration_minutes=VISIT_MINUTES,
            room_kind="consult",
            color="#2e7d32",
        )
        self.desk = user_upsert(
            username="bench-desk", password=uuid.uuid4().hex, role=Role.FRONT_DESK
        )


def make_patients(count: int, rng: random.Random) -> list:
    from patients.models import Patient
    from patients.services import next_mrn

    return Patient.objects.bulk_create(
        Patient(
            mrn=next_mrn(),
            legal_first_name=f"Pat{n}",
            legal_last_name="Bench",
            date_of_birth=date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000)),
        )
        for n in range(count)
    )


def day_visits(clinic: Clinic, day: date, count: int, patients: list, status_mix: bool) -> list:
    """`count` visits on `day`, round-robin over the providers (each in their own room)."""
    from scheduling.models import Appointment

    zone = clinic.location.zone
    rng = clinic.rng
    rows = []
    for index in range(count):
        slot = index // PROVIDERS
        provider = index % PROVIDERS
        start = datetime.combine(day, clock(7)).replace(tzinfo=zone) + timedelta(
            minutes=VISIT_MINUTES * slot
        )
        end = start + timedelta(minutes=VISIT_MINUTES)
        status = "booked"
        stamps: dict = {}
        if status_mix:
            status = rng.choices(
                ["booked", "checked_in", "in_room", "completed", "cancelled", "no_show"],
                weights=[60, 10, 8, 12, 5, 5],
            )[0]
            if status in ("checked_in", "in_room", "completed"):
                stamps["checked_in_at"] = start - timedelta(minutes=10)
            if status in ("in_room", "completed"):
                stamps["in_room_at"] = start + timedelta(minutes=5)
            if status == "completed":
                stamps["completed_at"] = end
        overbooked = status_mix and rng.random() < 0.03
        rows.append(
            Appointment(
                patient=patients[index % len(patients)],
                appointment_type=clinic.kind,
                provider=clinic.providers[provider],
                location=clinic.location,
                room=clinic.rooms[provider],
                start=start,
                end=end,
                block_start=start,
                block_end=end,
                status=status,
                cancel_reason="Called" if status == "cancelled" else "",
                overbooked=overbooked,
                overbook_reason="Squeezed in" if overbooked else "",
                **stamps,
            )
        )
    return Appointment.objects.bulk_create(rows)


def build(clinic: Clinic, args: argparse.Namespace) -> date:
    from django.db import transaction

    from patients.models import IntakeSubmission

    day = datetime.now(clinic.location.zone).date() + timedelta(days=1)
    with transaction.atomic():
        patients = make_patients(max(args.visits, 200), clinic.rng)
        day_visits(clinic, day, args.visits, patients, status_mix=True)
        for offset in range(1, args.other_days + 1):
            other = day + timedelta(days=offset if offset % 2 else -offset)
            day_visits(clinic, other, args.visits, patients, status_mix=False)
        IntakeSubmission.objects.bulk_create(
            IntakeSubmission(patient=p, status="submitted", urgent=True, urgent_reasons=["bench"])
            for p in patients[::15]
        )
    return day


# --- The measurements ------------------------------------------------------------------------


def time_window(clinic: Clinic, day: date, repeat: int) -> list[dict]:
    from scheduling.calendar_selectors import Window, calendar_window
    from tests.signin import SignedInClient

    client = SignedInClient(SERVER_NAME="localhost")
    client.sign_in(clinic.desk)  # past the second step too: staff pages need it
    location = str(clinic.location.pk)

    def selector():
        calendar_window(Window(location=clinic.location, start=day, end=day + timedelta(days=1)))
        return None

    def get(label: str, **params):
        query = {"location": location, "start": str(day), "end": str(day + timedelta(days=1))}
        query.update(params)

        def call():
            response = client.get("/desk/calendar/events/", query)
            assert response.status_code == 200, (label, response.status_code)
            return len(response.content)

        return call

    week_end = str(day + timedelta(days=7))
    provider = str(clinic.providers[0].pk)
    return [
        measure("calendar_window() day", selector, repeat),
        measure("GET day by provider", get("provider"), repeat),
        measure("GET day by room", get("room", by="room"), repeat),
        measure("GET provider's week", get("week", end=week_end, provider=provider), repeat),
    ]


def print_report(rows: list[dict], args: argparse.Namespace, visits: int) -> None:
    print()
    print(
        f"Desk calendar window: {PROVIDERS} providers, {visits} visits on the day, "
        f"{args.other_days} other days of the same load"
    )
    print(f"{machine_line()}; {args.repeat} runs each after one warm-up")
    print()
    header = f"{'measured':<24} {'p50 ms':>7} {'p95 ms':>7} {'queries':>7} {'size':>10}"
    print(header)
    print("-" * len(header))
    for row in rows:
        size = f"{row['size'] / 1024:.1f} KiB" if row["size"] else ""
        print(
            f"{row['what']:<24} {row['p50']:>7.1f} {row['p95']:>7.1f} {row['queries']:>7} "
            f"{size:>10}"
        )
    print()
    print("queries: SQL statements of one call (a request adds the session, the user and its")
    print("role groups, and the location). Target: under 150 ms.")


def main() -> None:
    args = parse_args()
    with own_database(BENCH_DB, keep=args.keep):
        rng = random.Random(args.seed)
        clinic = Clinic(rng)
        print(
            f"Inserting {args.visits} visits a day for {args.other_days + 1} days ...", flush=True
        )
        day = build(clinic, args)
        vacuum_analyze()
        print(f"Timing ({args.repeat} runs each) ...", flush=True)
        rows = time_window(clinic, day, args.repeat)
        print_report(rows, args, args.visits)


if __name__ == "__main__":
    main()
