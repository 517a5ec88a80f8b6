"""Benchmark of availability and of a lost race's 409 (issue 16, points 1 and 2): 20 and 50
providers, Monday to Friday 08:00-17:00, 15-minute visits, the next 30 days 40% booked, over
10,000 and then 1,000,000 appointments of history.

Run from the project root:

    .venv/bin/python bench/availability.py                      # about 5 minutes on 2 cores
    .venv/bin/python bench/availability.py --history 10000      # the small history only
    .venv/bin/python bench/availability.py --repeat 30 --keep   # keep clinic_bench_availability

Like the other benchmarks it never touches the dev database: it drops and recreates
clinic_bench_availability on the server of DATABASE_URL, migrates it, and builds two
locations in America/Chicago, one with 20 providers and one with 50 (a consult room each),
a 15-minute follow-up needing a consult room, and 40% of the window's slots booked (SQL,
seeded). The history is inserted with INSERT ... SELECT generate_series (past visits, 10%
cancelled or no-show, the write-history triggers off for the import), then VACUUM ANALYZE.
At each history size it times, after one warm-up:

- free_slots() for the 30 days at the 20-provider and the 50-provider location;
- GET /api/v1/availability/ for the same, through Django's test Client as the front desk
  (accepting gzip, as browsers do; the size without gzip is printed too);
- a 409 `slot_taken` with alternatives: the service booking a taken slot and losing at the
  insert (the race's loser), and POST /api/v1/appointments/ on a taken slot;
- a storm: `--storm` bookings of one free slot from `--threads` threads at once, each on its
  own connection; the wall time until all are answered and how they were answered.

It prints p50 and p95 in milliseconds, the SQL statements of one call, the response size, the
plan of the availability's appointment query, the growth ratios, the machine's load and the
git commit. Targets: availability p95 <= 100 ms in-process and <= 250 ms through the API at
1,000,000 rows, growth <= 1.2x from 10,000 to 1,000,000 rows, 50 providers <= 2.5x of 20,
a 409 <= 100 ms, the storm answered within 3 s with no error.
"""

import argparse
import threading
import time
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as clock

from benchkit import (
    freeze_as_a_worker_starts,
    machine_line,
    measure,
    own_database,
    vacuum_analyze,
)

BENCH_DB = "clinic_bench_availability"
ZONE_NAME = "America/Chicago"
SIZES = {"small": 20, "large": 50}
PATIENTS_PER_PROVIDER = 30  # a patient is only ever seen by one provider: no patient overlaps
VISIT_MINUTES = 15
SLOTS_A_DAY = 36  # 08:00-17:00


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--history", type=int, nargs="+", default=[10_000, 1_000_000], help="history sizes"
    )
    parser.add_argument("--days", type=int, default=30, help="days in the availability window")
    parser.add_argument("--booked", type=float, default=0.4, help="share of slots booked")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per measurement")
    parser.add_argument("--storm", type=int, default=200, help="bookings of one slot at once")
    parser.add_argument("--threads", type=int, default=20, help="threads the storm runs in")
    parser.add_argument("--seed", type=float, default=0.2026, help="SQL setseed() value")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave the objects loaded before timing in the collector's care (no gc.freeze)",
    )
    return parser.parse_args()


# --- The clinic ------------------------------------------------------------------------------


class Clinic:
    def __init__(self):
        from clinic.users.roles import Role
        from clinic.users.services import user_upsert
        from scheduling.models import AppointmentType, WorkingHours
        from sites.models import Location, Provider, Room

        self.locations, self.providers, self.rooms = {}, [], []
        for size, count in SIZES.items():
            location = Location.objects.create(
                code=f"bench-{size}", name=f"Bench {size}", time_zone=ZONE_NAME
            )
            self.locations[size] = location
            for n in range(count):
                provider = Provider.objects.create(
                    first_name=f"Doc{n}", last_name=f"{size.title()}{n:02d}", credentials="MD"
                )
                provider.locations.add(location)
                self.providers.append(provider)
                self.rooms.append(
                    Room.objects.create(location=location, name=f"Exam {n:02d}", kind="consult")
                )
        WorkingHours.objects.bulk_create(
            WorkingHours(
                provider=provider,
                location=room.location,
                weekday=weekday,
                start_time=clock(8),
                end_time=clock(17),
            )
            for provider, room in zip(self.providers, self.rooms, strict=True)
            for weekday in range(5)
        )
        self.kind = AppointmentType.objects.create(
            code="follow_up",
            name="Follow-up",
            kind="follow_up",
            duration_minutes=VISIT_MINUTES,
            room_kind="consult",
            slot_step_minutes=VISIT_MINUTES,
            patient_bookable=True,
            min_notice_hours=0,
            max_horizon_days=90,
        )
        self.desk = user_upsert(
            username="bench-desk", password=uuid.uuid4().hex, role=Role.FRONT_DESK
        )
        patients = make_patients(len(self.providers) * PATIENTS_PER_PROVIDER + 1000)
        regulars = len(self.providers) * PATIENTS_PER_PROVIDER
        # Ids only for the visits' patients: thousands of model objects held by this process
        # would make its garbage collections, and so the timings, slower than a web worker's.
        self.patient_ids = [str(p.pk) for p in patients[:regulars]]
        self.spare_patients = patients[regulars:]
        zone = self.locations["small"].zone
        self.first_day = datetime.now(zone).date() + timedelta(days=1)

    def arrays(self) -> dict:
        return {
            "providers": [p.pk for p in self.providers],
            "rooms": [r.pk for r in self.rooms],
            "locations": [r.location_id for r in self.rooms],
            "patients": self.patient_ids,
            "kind": self.kind.pk,
            "count": len(self.providers),
            "per": PATIENTS_PER_PROVIDER,
        }


def make_patients(count: int) -> list:
    from django.db import connection

    from patients.models import Patient

    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('patients_mrn_seq') FROM generate_series(1, %s)", [count])
        mrns = [f"{value:08d}" for (value,) in cursor.fetchall()]
    return Patient.objects.bulk_create(
        Patient(
            mrn=mrn,
            legal_first_name=f"Pat{n}",
            legal_last_name="Bench",
            date_of_birth=date(1950, 1, 1) + timedelta(days=n % 20000),
        )
        for n, mrn in enumerate(mrns)
    )


# One row a (provider, n): the provider's room and location, a patient of their own.
INSERT = """
INSERT INTO scheduling_appointment (
    id, patient_id, appointment_type_id, provider_id, location_id, room_id, start, "end",
    block_start, block_end, status, findings, cancel_reason, idempotency_key, overbooked,
    overbook_reason, created_at, updated_at)
SELECT gen_random_uuid(),
       (%(patients)s::uuid[])[doc + %(count)s * (n %% %(per)s)],
       %(kind)s, (%(providers)s::uuid[])[doc], (%(locations)s::uuid[])[doc],
       (%(rooms)s::uuid[])[doc], at, at + interval '15 minutes', at, at + interval '15 minutes',
       status, '[]', CASE WHEN status = 'cancelled' THEN 'Called' ELSE '' END, '', false, '',
       now(), now()
FROM ({rows}) AS source
"""

WINDOW_ROWS = """
SELECT doc, n, at, 'booked' AS status
FROM (
    SELECT doc, row_number() OVER () AS n,
           ((day::date + time '08:00' + k * interval '15 minutes') AT TIME ZONE %(zone)s) AS at
    FROM generate_series(1, %(count)s) AS doc,
         generate_series(%(first)s::timestamp, %(last)s::timestamp, interval '1 day') AS day,
         generate_series(0, {slots} - 1) AS k
    WHERE extract(isodow FROM day) < 6 AND random() < %(booked)s
) AS chosen
"""

# Past visits, back to back per provider (history needs no hours), going back from the day
# before yesterday; row i is provider i %% count's (i / count)-th visit back.
HISTORY_ROWS = """
SELECT i %% %(count)s + 1 AS doc, i / %(count)s AS n,
       %(before)s::timestamptz - (i / %(count)s + 1) * interval '15 minutes' AS at,
       CASE i %% 10 WHEN 0 THEN 'cancelled' WHEN 1 THEN 'no_show' ELSE 'completed' END AS status
FROM generate_series(%(start)s, %(stop)s - 1) AS i
"""


def book_window(clinic: Clinic, days: int, booked: float, seed: float) -> int:
    from django.db import connection

    params = clinic.arrays() | {
        "zone": ZONE_NAME,
        "first": clinic.first_day,
        "last": clinic.first_day + timedelta(days=days - 1),
        "booked": booked,
    }
    rows = WINDOW_ROWS.format(slots=SLOTS_A_DAY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed])
        cursor.execute(INSERT.format(rows=rows), params)
        return cursor.rowcount


def add_history(clinic: Clinic, start: int, stop: int) -> float:
    """Rows start..stop-1 of the history; the write-history triggers are off meanwhile (an
    import, not visits booked through the services)."""
    from django.db import connection, transaction

    zone = clinic.locations["small"].zone
    before = datetime.combine(clinic.first_day - timedelta(days=2), clock(0)).replace(tzinfo=zone)
    params = clinic.arrays() | {"before": before, "start": start, "stop": stop}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE scheduling_appointment DISABLE TRIGGER USER")
        cursor.execute(INSERT.format(rows=HISTORY_ROWS), params)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys, checked now
        cursor.execute("ALTER TABLE scheduling_appointment ENABLE TRIGGER USER")
    return time.perf_counter() - started


# --- The measurements ------------------------------------------------------------------------


def desk_client(clinic: Clinic):
    """Django's test Client signed in as the front desk, past the second step too."""
    from tests.signin import SignedInClient

    client = SignedInClient(SERVER_NAME="localhost")
    client.sign_in(clinic.desk)
    return client


def availability_rows(clinic: Clinic, days: int, repeat: int) -> list[dict]:
    from scheduling.availability import free_slots

    client = desk_client(clinic)
    last_day = clinic.first_day + timedelta(days=days - 1)
    rows = []
    for size, location in clinic.locations.items():

        def in_process(location=location):
            slots = free_slots(
                appointment_type=clinic.kind,
                start_date=clinic.first_day,
                end_date=last_day,
                location=location,
            )
            return len(slots)

        query = {
            "appointment_type": clinic.kind.code,
            "start": str(clinic.first_day),
            "end": str(last_day),
            "location": str(location.pk),
        }

        def api(query=query):
            response = client.get("/api/v1/availability/", query, HTTP_ACCEPT_ENCODING="gzip")
            assert response.status_code == 200, response.content[:300]
            assert response["Content-Encoding"] == "gzip"
            return len(response.content)

        count = SIZES[size]
        rows.append(measure(f"free_slots() {count} providers", in_process, repeat))
        rows.append(measure(f"GET availability {count} prov.", api, repeat))
        raw = client.get("/api/v1/availability/", query)  # as a client without gzip gets it
        rows[-1]["raw"] = len(raw.content)
    return rows


def taken_slot(clinic: Clinic):
    from scheduling.models import Appointment

    location = clinic.locations["small"]
    return (
        Appointment.objects.filter(location=location, status="booked")
        .select_related("provider", "room")
        .order_by("start")[5]
    )


def conflict_rows(clinic: Clinic, repeat: int) -> list[dict]:
    """A booking of a taken slot: the service losing at the insert (as the race's loser
    does), and the API's POST (which sees the slot taken before inserting)."""
    from clinic.core.errors import Conflict
    from clinic.users.actor import Actor
    from scheduling.services import appointment_book

    taken = taken_slot(clinic)
    patient = clinic.spare_patients[0]

    def lose_at_insert():
        try:
            appointment_book(
                patient=patient,
                appointment_type=clinic.kind,
                provider=taken.provider,
                location=taken.location,
                room=taken.room,
                start=taken.start,
                by=Actor.system(),
            )
        except Conflict as conflict:
            assert conflict.code == "slot_taken"
            return len(conflict.extra["alternatives"])
        raise AssertionError("the taken slot was booked")

    client = desk_client(clinic)
    body = {
        "patient": str(patient.pk),
        "appointment_type": clinic.kind.code,
        "provider": str(taken.provider.pk),
        "location": str(taken.location.pk),
        "start": taken.start.isoformat(),
    }

    def post():
        response = client.post("/api/v1/appointments/", body, content_type="application/json")
        assert response.status_code == 409, (response.status_code, response.content[:300])
        return len(response.json()["alternatives"])

    return [
        measure("409: lost at the insert", lose_at_insert, repeat),
        measure("409: POST taken slot", post, repeat),
    ]


def storm(clinic: Clinic, attempts: int, threads: int, day_offset: int) -> dict:
    """`attempts` bookings of one free slot, from `threads` threads started together."""
    from django.db import connection

    from clinic.core.errors import Conflict
    from clinic.users.actor import Actor
    from scheduling.availability import free_slots
    from scheduling.services import appointment_book

    location = clinic.locations["small"]
    day = clinic.first_day + timedelta(days=day_offset)
    slot = free_slots(
        appointment_type=clinic.kind, start_date=day, end_date=day + timedelta(7), location=location
    )[0]
    patients = clinic.spare_patients[1 : 1 + attempts]
    outcomes: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(threads)
    by = Actor.api(clinic.desk)

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            for patient in patients[index::threads]:
                try:
                    appointment_book(
                        patient=patient,
                        appointment_type=clinic.kind,
                        provider=slot.provider,
                        location=location,
                        start=slot.start,
                        by=by,
                    )
                    outcome = "booked"
                except Conflict as conflict:
                    outcome = f"409 {conflict.code}"
                except Exception as error:  # a 500 in production: counted, not hidden
                    outcome = f"error {type(error).__name__}"
                with lock:
                    outcomes[outcome] += 1
        finally:
            connection.close()

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return {"seconds": time.perf_counter() - started, "outcomes": dict(outcomes)}


def appointment_plan(clinic: Clinic, days: int) -> str:
    """EXPLAIN ANALYZE of the availability's appointment query for the 20 providers."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduling.availability import free_slots

    with CaptureQueriesContext(connection) as captured:
        free_slots(
            appointment_type=clinic.kind,
            start_date=clinic.first_day,
            end_date=clinic.first_day + timedelta(days=days - 1),
            location=clinic.locations["small"],
        )
    sql = next(q["sql"] for q in captured.captured_queries if "scheduling_appointment" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + sql)
        return "\n".join(line for (line,) in cursor.fetchall())


# --- The report ----------------------------------------------------------------------------


def print_rows(rows: list[dict]) -> None:
    header = (
        f"{'measured':<30} {'p50 ms':>8} {'p95 ms':>8} {'gc ms':>6} {'queries':>7} {'size':>14}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if row["what"].startswith("GET"):
            size = f"{row['size'] / 1024:.0f} KiB gzip"
        elif row["what"].startswith("409"):
            size = f"{row['size']} altern."
        else:
            size = f"{row['size']} slots"
        print(
            f"{row['what']:<30} {row['p50']:>8.1f} {row['p95']:>8.1f} {row['gc']:>6.1f} "
            f"{row['queries']:>7} "
            f"{size:>14}"
        )


def print_raw_sizes(rows: list[dict]) -> None:
    for row in rows:
        if "raw" in row:
            print(f"{row['what']}: {row['raw'] / 1024:.0f} KiB of JSON without gzip")


def ratio(rows_by_size: dict, what: str, big, small) -> str:
    def p50(size):
        return next(r["p50"] for r in rows_by_size[size] if r["what"] == what)

    return f"{p50(big) / p50(small):.2f}x"


def main() -> None:
    args = parse_args()
    with own_database(BENCH_DB, keep=args.keep):
        clinic = Clinic()
        window = book_window(clinic, args.days, args.booked, args.seed)
        slots = len(clinic.providers) * SLOTS_A_DAY
        print(f"Booked {window} visits in the {args.days} days ({slots} slots a weekday).")
        results: dict[int, list[dict]] = {}
        done = 0
        for index, size in enumerate(sorted(args.history)):
            seconds = add_history(clinic, done, size)
            done = size
            vacuum_analyze()
            print(f"History {size:,} rows (inserted in {seconds:.1f} s); timing ...", flush=True)
            if not args.no_freeze:
                freeze_as_a_worker_starts()
            rows = availability_rows(clinic, args.days, args.repeat)
            rows += conflict_rows(clinic, args.repeat)
            results[size] = rows
            stormed = storm(clinic, args.storm, args.threads, day_offset=2 + 3 * index)
            print()
            print(f"== {size:,} appointments of history, {window} in the window ==")
            print(f"{machine_line()}; {args.repeat} runs each after one warm-up")
            print()
            print_rows(rows)
            print_raw_sizes(rows)
            print()
            print(
                f"storm: {args.storm} bookings of one slot from {args.threads} threads: "
                f"all answered in {stormed['seconds']:.2f} s; {stormed['outcomes']}"
            )
            print()
            print("Plan of the availability's appointment query (20 providers, 30 days):")
            print(appointment_plan(clinic, args.days))
            print()
        sizes = sorted(results)
        if len(sizes) > 1:
            small, big = sizes[0], sizes[-1]
            print(f"Growth from {small:,} to {big:,} rows (p50):")
            for what in ("free_slots() 20 providers", "GET availability 20 prov."):
                print(f"  {what:<28} {ratio(results, what, big, small)}")
        last = results[sizes[-1]]
        print(f"50 providers against 20 at {sizes[-1]:,} rows (p50):")
        by_what = {row["what"]: row for row in last}
        for kind in ("free_slots() {} providers", "GET availability {} prov."):
            fifty, twenty = by_what[kind.format(50)]["p50"], by_what[kind.format(20)]["p50"]
            print(f"  {kind.format('50/20'):<28} {fifty / twenty:.2f}x")


if __name__ == "__main__":
    main()
