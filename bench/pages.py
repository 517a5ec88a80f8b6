"""Benchmark of the busiest pages and of every paginated list of the API: the front desk's day
board with 150 visits, the physician's history page with 500 events, and each GET list under
/api/v1/ at page size 50.

Run from the project root:

    .venv/bin/python bench/pages.py                      # about 3 minutes on 2 cores
    .venv/bin/python bench/pages.py --runs 5 --repeat 30
    .venv/bin/python bench/pages.py --only board history # some of the measurements
    .venv/bin/python bench/pages.py --keep               # keep clinic_bench_h2_pages
    .venv/bin/python bench/pages.py --reuse              # time it again, no seeding

It never touches the dev database: it drops and recreates a database of its own,
clinic_bench_h2_pages, on the server of DATABASE_URL (bench/benchkit.py; settings
clinic.settings.local with DEBUG off) and migrates it. It seeds:

- the desk's clinic of bench/calendar_window.py (12 providers, 12 rooms, 150 visits on the
  timed day and 30 other days of the same load);
- the histories of bench/history.py: 2,000 patients with 10 events each and one with 500;
- for the lists: a patient with 60 allergies, medications, conditions, devices, labs,
  assessments and intakes, 60 submitted intakes in the queue, 60 open duplicate pairs and
  60 waitlist entries with an offer each.

Every page and list is requested through Django's test Client (in-process: the whole
middleware stack, the audit rows written as in production, no network), signed in as the
role that uses it; the timings are server time. Each measurement is `--runs` runs of
`--repeat` requests after a warm-up; it prints the median over the runs of each run's p50
and p95, the CPU per request, the collector's longest pause, the SQL statements of one
request and the body size, with the machine's load and the commit. Before timing it freezes
what it has loaded out of the garbage collector, as a gunicorn worker starts
(gunicorn.conf.py); --no-freeze leaves that out.
"""

import argparse
import importlib.util
import os
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import calendar_window
from benchkit import (
    freeze_as_a_worker_starts,
    machine_line,
    measure,
    own_database,
    server_url,
    setup_django,
    vacuum_analyze,
)


def _bench_module(name: str):
    """A sibling script by file: bench/history.py would otherwise shadow the history app."""
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", Path(__file__).with_name(f"{name}.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


history = _bench_module("history")

BENCH_DB = "clinic_bench_h2_pages"
LIST_ROWS = 60  # more than a page of 50
BOARD_VISITS = 150
HISTORY_EVENTS = 500
PAGE_TARGET_MS, LIST_TARGET_MS = 150, 50


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each measurement")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per run")
    parser.add_argument("--others", type=int, default=2000, help="patients with 10 events")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the data")
    parser.add_argument(
        "--only", nargs="+", default=None, help="measure only these (labels starting so)"
    )
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    parser.add_argument(
        "--reuse", action="store_true", help=f"time the {BENCH_DB} a --keep run left (no seeding)"
    )
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave the objects loaded before timing in the collector's care (no gc.freeze)",
    )
    return parser.parse_args()


# --- The data ------------------------------------------------------------------------------


@dataclass
class Seeded:
    desk_location: object
    desk_user: object
    clinician: object
    board_day: date
    history_patient: object
    chart_patient: object


def seed_desk(rng: random.Random) -> tuple[calendar_window.Clinic, date]:
    clinic = calendar_window.Clinic(rng, code="boulder", kind_code="desk_follow_up")
    options = argparse.Namespace(visits=BOARD_VISITS, other_days=30)
    return clinic, calendar_window.build(clinic, options)


def seed_histories(rng: random.Random, others: int) -> tuple[history.Clinic, object]:
    clinic = history.Clinic()
    for n in range(others):
        history.insert_history(clinic, history.make_patient(rng, f"Other{n}"), 10, rng)
    patient = history.make_patient(rng, f"Events{HISTORY_EVENTS}")
    history.insert_history(clinic, patient, HISTORY_EVENTS, rng)
    return clinic, patient


def seed_chart_lists(clinic: history.Clinic, rng: random.Random):
    """A patient with more than a page of each chart list."""
    from django.utils import timezone

    from patients.models import (
        LAB_UNITS,
        Allergy,
        Assessment,
        Condition,
        ImplantedDevice,
        IntakeSubmission,
        LabKind,
        LabResult,
        Medication,
    )

    patient = history.make_patient(rng, "Lists")
    by = clinic.clinician
    now = timezone.now()
    n_rows = range(LIST_ROWS)
    Allergy.objects.bulk_create(
        Allergy(patient=patient, substance=f"Substance {n}", recorded_by=by) for n in n_rows
    )
    Medication.objects.bulk_create(
        Medication(patient=patient, name=f"Drug {n}", drug_class="opioid", recorded_by=by)
        for n in n_rows
    )
    Condition.objects.bulk_create(
        Condition(patient=patient, kind="other", description=f"Condition {n}", recorded_by=by)
        for n in n_rows
    )
    ImplantedDevice.objects.bulk_create(
        ImplantedDevice(patient=patient, kind="other", description=f"Device {n}", recorded_by=by)
        for n in n_rows
    )
    kinds = list(LabKind)
    LabResult.objects.bulk_create(
        LabResult(
            patient=patient,
            kind=kinds[n % len(kinds)],
            value=Decimal(n % 7 + 1),
            unit=LAB_UNITS[kinds[n % len(kinds)]],
            taken_on=now.date() - timedelta(days=n),
            recorded_by=by,
        )
        for n in n_rows
    )
    Assessment.objects.bulk_create(
        Assessment(
            patient=patient,
            instrument="nrs",
            body_region="low_back",
            items={"score": n % 11},
            total=Decimal(n % 11),
            taken_at=now - timedelta(days=n),
            recorded_by=by,
        )
        for n in n_rows
    )
    IntakeSubmission.objects.bulk_create(
        IntakeSubmission(
            patient=patient, status="reviewed", answers={}, submitted_at=now - timedelta(days=n)
        )
        for n in n_rows
    )
    return patient


def seed_queues(desk: calendar_window.Clinic, rng: random.Random) -> None:
    """Submitted intakes waiting for the desk, open duplicate pairs, and waitlist entries,
    each with an offer out: more than a page of each."""
    from django.utils import timezone

    from patients.models import (
        Decision,
        DuplicateCandidate,
        IntakeItem,
        IntakeItemKind,
        IntakeSubmission,
    )
    from scheduling.models import WaitlistEntry, WaitlistOffer

    def new_patients():
        return calendar_window.make_patients(LIST_ROWS, rng)

    now = timezone.now()
    intakes = IntakeSubmission.objects.bulk_create(
        IntakeSubmission(patient=patient, status="submitted", submitted_at=now)
        for patient in new_patients()
    )
    IntakeItem.objects.bulk_create(
        item
        for intake in intakes
        for item in (
            IntakeItem(
                submission=intake, kind=IntakeItemKind.DEMOGRAPHIC, field="city", proposed=""
            ),
            IntakeItem(
                submission=intake,
                kind=IntakeItemKind.MEDICATION,
                proposed={"name": "Ibuprofen"},
                decision=Decision.ACCEPTED,
                decided_by=desk.desk,
            ),
        )
    )
    DuplicateCandidate.objects.bulk_create(
        DuplicateCandidate(patient=patient, match=match, reasons=["phone"])
        for patient, match in zip(new_patients(), new_patients(), strict=True)
    )
    earliest = now.date() + timedelta(days=3)
    entries = WaitlistEntry.objects.bulk_create(
        WaitlistEntry(
            patient=patient,
            appointment_type=desk.kind,
            earliest=earliest,
            latest=earliest + timedelta(days=14),
        )
        for patient in new_patients()
    )
    WaitlistOffer.objects.bulk_create(
        WaitlistOffer(
            entry=entry,
            provider=desk.providers[n % len(desk.providers)],
            location=desk.location,
            room=desk.rooms[n % len(desk.rooms)],
            start=now + timedelta(days=3, minutes=20 * n),
            expires_at=now + timedelta(hours=4),
        )
        for n, entry in enumerate(entries)
    )


def seed(args: argparse.Namespace) -> Seeded:
    from django.db import transaction

    rng = random.Random(args.seed)
    print(f"Seeding the desk's clinic ({BOARD_VISITS} visits a day for 31 days) ...", flush=True)
    desk, day = seed_desk(rng)
    print(f"Seeding {args.others:,} histories of 10 events and one of 500 ...", flush=True)
    clinic, patient = seed_histories(rng, args.others)
    print("Seeding the lists ...", flush=True)
    with transaction.atomic():
        chart_patient = seed_chart_lists(clinic, rng)
        seed_queues(desk, rng)
    vacuum_analyze()
    return Seeded(desk.location, desk.desk, clinic.clinician, day, patient, chart_patient)


def seeded_before() -> Seeded:
    """What a run with --keep seeded, found again (for --reuse)."""
    from clinic.users.models import User
    from patients.models import Patient
    from scheduling.models import Appointment
    from sites.models import Location

    location = Location.objects.get(code="boulder")
    mixed = Appointment.objects.filter(location=location).exclude(status="booked").first()
    assert mixed is not None, "not a database seeded by bench/pages.py"
    return Seeded(
        desk_location=location,
        desk_user=User.objects.get(username="bench-desk"),
        clinician=User.objects.get(username="bench-doc"),
        board_day=mixed.start.astimezone(location.zone).date(),
        history_patient=Patient.objects.get(legal_first_name=f"Events{HISTORY_EVENTS}"),
        chart_patient=Patient.objects.get(legal_first_name="Lists"),
    )


# --- The measurements ----------------------------------------------------------------------


@dataclass
class Target:
    label: str
    url: str
    params: dict
    who: str  # "desk" or "clinician"
    limit_ms: int


def targets(seeded: Seeded) -> list[Target]:
    board_query = {"location": str(seeded.desk_location.pk), "date": str(seeded.board_day)}
    chart = f"/api/v1/patients/{seeded.chart_patient.pk}"
    page = {"page_size": 50}
    lists = [
        ("patients", "/api/v1/patients/", page, "desk"),
        ("patients ?search=", "/api/v1/patients/", {**page, "search": "bench"}, "desk"),
        ("allergies", f"{chart}/allergies/", page, "clinician"),
        ("medications", f"{chart}/medications/", page, "clinician"),
        ("conditions", f"{chart}/conditions/", page, "clinician"),
        ("devices", f"{chart}/devices/", page, "clinician"),
        ("labs", f"{chart}/labs/", page, "clinician"),
        ("assessments", f"{chart}/assessments/", page, "clinician"),
        ("patient's intakes", f"{chart}/intakes/", page, "clinician"),
        ("intake queue", "/api/v1/intakes/", page, "desk"),
        ("duplicates", "/api/v1/duplicates/", page, "desk"),
        ("procedure-types", "/api/v1/procedure-types/", page, "desk"),
        ("procedure-orders", "/api/v1/procedure-orders/", page, "clinician"),
        ("procedure-records", "/api/v1/procedure-records/", page, "clinician"),
        ("locations", "/api/v1/locations/", page, "desk"),
        ("providers", "/api/v1/providers/", page, "desk"),
        ("appointment-types", "/api/v1/appointment-types/", page, "desk"),
        ("appointments", "/api/v1/appointments/", page, "desk"),
        ("appointments of a day", "/api/v1/appointments/", {**page, **board_query}, "desk"),
        ("waitlist", "/api/v1/waitlist/", page, "desk"),
    ]
    return [
        Target(f"day board ({BOARD_VISITS} visits)", "/desk/", board_query, "desk", PAGE_TARGET_MS),
        Target(
            f"history page ({HISTORY_EVENTS} events)",
            f"/patients/{seeded.history_patient.pk}/history/",
            {},
            "clinician",
            PAGE_TARGET_MS,
        ),
        Target(
            f"history API ({HISTORY_EVENTS} events)",
            f"/api/v1/patients/{seeded.history_patient.pk}/history/",
            {},
            "clinician",
            PAGE_TARGET_MS,
        ),
        *(
            Target(f"GET {label}", url, params, who, LIST_TARGET_MS)
            for label, url, params, who in lists
        ),
    ]


def signed_in_clients(seeded: Seeded) -> dict:
    from tests.signin import SignedInClient

    clients = {}
    for who, user in (("desk", seeded.desk_user), ("clinician", seeded.clinician)):
        client = SignedInClient(SERVER_NAME="localhost")
        client.sign_in(user)  # past the second step too: staff pages need it
        clients[who] = client
    return clients


def request_of(client, target: Target) -> Callable[[], int]:
    def call() -> int:
        response = client.get(target.url, target.params)
        assert response.status_code == 200, (target.label, response.status_code)
        return len(response.content)

    return call


def cpu_ms(call: Callable[[], int], repeat: int) -> float:
    """The median CPU time of this process per request: the server's own work (Python, not
    PostgreSQL), which the other processes on the machine slow down far less than the wall
    clock."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        call()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def measure_runs(target: Target, call: Callable[[], int], runs: int, repeat: int) -> dict:
    """`runs` measurements of `repeat` requests; the medians of their p50s and p95s, of the
    CPU per request and of the longest collector pause."""
    measured = [measure(target.label, call, repeat) for _ in range(runs)]
    return {
        "gc": statistics.median(m["gc"] for m in measured),
        "what": target.label,
        "p50": statistics.median(m["p50"] for m in measured),
        "p95": statistics.median(m["p95"] for m in measured),
        "cpu": statistics.median(cpu_ms(call, repeat) for _ in range(runs)),
        "queries": measured[0]["queries"],
        "size": measured[0]["size"],
        "limit": target.limit_ms,
    }


def print_report(rows: list[dict], args: argparse.Namespace) -> None:
    print()
    print(
        f"Pages and API lists through Django's test Client (in-process, server time); "
        f"median of {args.runs} runs of {args.repeat} requests each, after a warm-up"
    )
    start_load = " ".join(f"{value:.2f}" for value in args.load_at_start)
    print(f"{machine_line()}; load average {start_load} at the start")
    print()
    header = (
        f"{'measured':<30} {'p50 ms':>7} {'p95 ms':>7} {'target':>7} {'cpu ms':>7} "
        f"{'gc ms':>6} {'queries':>7} {'size':>10}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        size = f"{row['size'] / 1024:.1f} KiB"
        mark = "" if row["p95"] <= row["limit"] else "  over"
        print(
            f"{row['what']:<30} {row['p50']:>7.1f} {row['p95']:>7.1f} {row['limit']:>7} "
            f"{row['cpu']:>7.1f} {row['gc']:>6.1f} {row['queries']:>7} {size:>10}{mark}"
        )
    print()
    print("p50, p95: wall clock per request; target: for the p95; cpu: this process's CPU per")
    print("request (median); gc: the longest pause of Python's collector in a run (median);")
    print("queries: SQL statements of one request (session, user, second factor, role, the")
    print("page's own, the audit row); lists at page size 50.")
    if args.no_freeze:
        print("--no-freeze: the objects made while seeding stayed in the collector's care.")


def chosen(target: Target, only: list[str] | None) -> bool:
    """--only names labels by their start, with or without the leading "GET "."""
    name = target.label.removeprefix("GET ")
    return not only or any(name.startswith(prefix) for prefix in only)


def time_all(seeded: Seeded, args: argparse.Namespace) -> None:
    args.load_at_start = os.getloadavg()
    clients = signed_in_clients(seeded)
    if not args.no_freeze:
        freeze_as_a_worker_starts()
    rows = []
    for target in targets(seeded):
        if chosen(target, args.only):
            print(f"Timing {target.label} ...", flush=True)
            call = request_of(clients[target.who], target)
            rows.append(measure_runs(target, call, args.runs, args.repeat))
    print_report(rows, args)


def main() -> None:
    args = parse_args()
    if args.reuse:
        setup_django(server_url(), BENCH_DB)
        time_all(seeded_before(), args)
        return
    with own_database(BENCH_DB, keep=args.keep):
        time_all(seed(args), args)


if __name__ == "__main__":
    main()
