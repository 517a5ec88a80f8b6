"""Benchmark of staff patient search (patients.selectors.patient_search) on 100,000 patients.

Run from the project root:

    .venv/bin/python bench/patient_search.py            # 100,000 patients, then drop the db
    .venv/bin/python bench/patient_search.py --keep     # keep clinic_bench to look around

It never touches the dev database: it drops and recreates a database named clinic_bench
on the server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432), points
DATABASE_URL at it before django.setup(), migrates it, bulk-inserts the patients, runs
VACUUM ANALYZE and then times each kind of search the way the patient list runs it (the
first page of 25, evaluated). See bench/README.md for the figures on the reference machine.
"""

import argparse
import random
import re
import statistics
import sys
import time
from datetime import date, timedelta

from benchkit import machine_line, own_database, percentile

BENCH_DB = "clinic_bench"
PAGE = 25
BATCH = 5000

# Real US area codes, so that numbers normalise (phonenumbers rejects 555 and x11 codes).
AREA_CODES = [
    "919", "984", "704", "336", "252", "910", "828", "303", "720", "719", "970",
    "212", "646", "718", "312", "773", "213", "310", "415", "617", "404", "713",
    "214", "602", "206", "503", "305", "813", "215", "412", "614", "313", "612",
]  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100_000, help="rows to insert")
    parser.add_argument("--repeat", type=int, default=20, help="searches timed per kind")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the data")
    parser.add_argument("--keep", action="store_true", help="keep the clinic_bench database")
    parser.add_argument(
        "--plan-lines", type=int, default=24, help="lines of each EXPLAIN ANALYZE to print"
    )
    return parser.parse_args()


# --- The patients -----------------------------------------------------------------------


def name_lists():
    try:
        from faker.providers.person.en_US import Provider
    except ImportError:  # pragma: no cover
        sys.exit(
            "The benchmark takes its name lists from Faker: pip install -r requirements-dev.txt"
        )
    last_names = list(Provider.last_names)
    last_weights = [float(weight) for weight in Provider.last_names.values()]
    return (
        list(Provider.first_names_female),
        list(Provider.first_names_male),
        last_names,
        last_weights,
    )


def insert_patients(count: int, rng: random.Random) -> float:
    from django.db import connection, transaction

    from patients.models import Patient, Sex
    from patients.services import MRN_SEQUENCE
    from sites.models import Location

    female, male, last_names, last_weights = name_lists()
    locations = [
        Location.objects.create(code="raleigh", name="Raleigh", time_zone="America/New_York"),
        Location.objects.create(code="denver", name="Denver", time_zone="America/Denver"),
    ]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [MRN_SEQUENCE, count])
        mrns = [f"{value:08d}" for (value,) in cursor.fetchall()]
    earliest = date(1930, 1, 1)
    span = (date(2008, 12, 31) - earliest).days
    for start in range(0, count, BATCH):
        rows = []
        for mrn in mrns[start : start + BATCH]:
            is_female = rng.random() < 0.55  # pain clinics see somewhat more women
            first = rng.choice(female if is_female else male)
            last = rng.choices(last_names, last_weights)[0]
            has_phone = rng.random() < 0.95
            phone = (
                f"+1{rng.choice(AREA_CODES)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
                if has_phone
                else ""
            )
            email = f"{first}.{last}{rng.randint(1, 999)}@example.com".lower()
            rows.append(
                Patient(
                    mrn=mrn,
                    legal_first_name=first,
                    legal_last_name=last,
                    preferred_name=rng.choice(female if is_female else male)
                    if rng.random() < 0.05
                    else "",
                    date_of_birth=earliest + timedelta(days=rng.randrange(span)),
                    sex=Sex.FEMALE if is_female else Sex.MALE,
                    phone=phone,
                    email=email if rng.random() < 0.7 else "",
                    home_location=rng.choice(locations),
                )
            )
        with transaction.atomic():
            Patient.objects.bulk_create(rows, batch_size=1000)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return elapsed


# --- The searches -----------------------------------------------------------------------


def format_phone(e164: str) -> str:
    digits = e164[2:]
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


COMMON = "common"  # sample only patients with one of the most frequent last names
QUERY_KINDS = [
    # (label, how a receptionist would type it for a given patient, which patients)
    ("last-name fragment", lambda p: p.legal_last_name[:4].lower(), None),
    ("common-name fragment", lambda p: p.legal_last_name[:4].lower(), COMMON),
    ("first + last name", lambda p: f"{p.legal_first_name} {p.legal_last_name}", None),
    ("MRN", lambda p: p.mrn, None),
    ("date of birth", lambda p: p.date_of_birth.strftime("%m/%d/%Y"), None),
    ("full phone", lambda p: format_phone(p.phone), None),
    ("last 4 of phone", lambda p: p.phone[-4:], None),
]


def plan_summary(plan: str) -> str:
    """How the plan reads the patients table: index names, or a sequential scan."""
    paths = []
    for line in plan.splitlines():
        match = re.search(
            r"(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)", line
        )
        if match and not match.group(2).startswith("scheduling_"):
            paths.append(match.group(2))
        elif "Seq Scan on patients_patient" in line:
            paths.append("SEQ SCAN on patients_patient")
    return ", ".join(dict.fromkeys(paths))


def execution_ms(plan: str) -> float:
    return float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1))


def search_pools(rng: random.Random) -> dict:
    """The patients each kind of query is made from: anyone, or the commonest last names."""
    from django.db.models import Count

    from patients.models import Patient

    with_phone = Patient.objects.exclude(phone="").order_by("mrn")
    common_names = (
        with_phone.values("legal_last_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "legal_last_name")
        .values_list("legal_last_name", flat=True)[:15]
    )
    return {
        None: list(with_phone.values_list("pk", flat=True)),
        COMMON: list(
            with_phone.filter(legal_last_name__in=list(common_names)).values_list("pk", flat=True)
        ),
    }


def time_queries(label: str, queries: list[str], search, plan_lines: int, check=None) -> dict:
    """Time each query (first page, evaluated) after one warm-up; EXPLAIN the slowest."""
    list(search(queries[0])[:PAGE])  # warm-up: connection, plan cache, buffers
    timings, server, rows = [], [], []
    for n, query in enumerate(queries[1:], start=1):
        started = time.perf_counter()
        page = list(search(query)[:PAGE])
        timings.append((time.perf_counter() - started) * 1000)
        rows.append(len(page))
        if check:
            check(n, page)
        server.append(execution_ms(search(query)[:PAGE].explain(analyze=True)))
    slowest = queries[1:][timings.index(max(timings))]
    plan = search(slowest)[:PAGE].explain(analyze=True)
    return {
        "kind": label,
        "example": slowest,
        "median": statistics.median(timings),
        "p95": percentile(timings, 0.95),
        "server": statistics.median(server),
        "rows": statistics.median(rows),
        "paths": plan_summary(plan),
        "plan": "\n".join(plan.splitlines()[:plan_lines]),
    }


def time_searches(
    repeat: int, rng: random.Random, plan_lines: int, search, pools: dict, only=None
) -> list[dict]:
    from patients.models import Patient

    results = []
    for label, make_query, pool in QUERY_KINDS:
        if only and label not in only:
            continue
        picked = rng.sample(pools[pool], repeat + 1)
        samples = list(Patient.objects.filter(pk__in=picked).order_by("mrn"))
        rng.shuffle(samples)

        def found(n, page, samples=samples, make_query=make_query):
            # The patient the query was made from is on the page (or the page is full).
            assert any(p.pk == samples[n].pk for p in page) or len(page) == PAGE, make_query(
                samples[n]
            )

        queries = [make_query(patient) for patient in samples]
        results.append(time_queries(label, queries, search, plan_lines, check=found))
    return results


def time_duplicates(repeat: int, rng: random.Random) -> dict:
    """duplicates_detect on a new record: someone registering again with a typo in the name."""
    from django.db import connection, transaction

    from patients.models import Patient
    from patients.services import duplicates_detect, next_mrn

    ids = list(Patient.objects.exclude(phone="").order_by("mrn").values_list("pk", flat=True))
    timings, found, captured = [], [], []

    def capture(execute, sql, params, many, context):
        if "SIMILARITY" in sql and not captured:
            captured.append((sql, params))
        return execute(sql, params, many, context)

    for original in Patient.objects.filter(pk__in=rng.sample(ids, repeat)).order_by("mrn"):
        last = original.legal_last_name
        typo = last[:-2] + last[-1] + last[-2] if len(last) > 3 else last + "e"
        with transaction.atomic():
            new = Patient.objects.create(
                mrn=next_mrn(),
                legal_first_name=original.legal_first_name,
                legal_last_name=typo,
                date_of_birth=original.date_of_birth,
                phone=original.phone,
                email=f"someone.new.{original.mrn}@example.org",
            )
            with connection.execute_wrapper(capture):
                started = time.perf_counter()
                candidates = duplicates_detect(patient=new)
                timings.append((time.perf_counter() - started) * 1000)
            found.append(len(candidates))
            if len(captured) == 1:  # EXPLAIN the candidate query while the new row exists
                sql, params = captured[0]
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN ANALYZE {sql}", params)
                    captured.append("\n".join(row[0] for row in cursor.fetchall()))
            transaction.set_rollback(True)
    plan = captured[1] if len(captured) > 1 else ""
    return {
        "median": statistics.median(timings),
        "p95": percentile(timings, 0.95),
        "found": statistics.median(found),
        "paths": plan_summary(plan),
        "plan": plan,
    }


# --- What if ----------------------------------------------------------------------------


def print_table(rows: list[dict], duplicates: dict | None = None) -> None:
    header = (
        f"{'query kind':<24} {'slowest query':<18} {'median ms':>9} {'p95 ms':>7} {'db ms':>6} "
        f"{'rows':>4}  patients_patient read by"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        flag = "" if row["p95"] < 50 else "  <-- over 50 ms"
        print(
            f"{row['kind']:<24} {row['example'][:18]:<18} {row['median']:>9.1f} "
            f"{row['p95']:>7.1f} {row['server']:>6.1f} {row['rows']:>4.0f}  {row['paths']}{flag}"
        )
    if duplicates:
        print(
            f"{'duplicates_detect':<24} {'new record':<18} {duplicates['median']:>9.1f} "
            f"{duplicates['p95']:>7.1f} {'':>6} {duplicates['found']:>4.0f}  "
            f"{duplicates['paths']} (rows = pairs found)"
        )


def print_plans(rows: list[dict]) -> None:
    for row in rows:
        print(f"EXPLAIN ANALYZE, slowest {row['kind']} query ({row['example']!r}):")
        for line in row["plan"].splitlines():
            print(f"    {line}")
        print()


def report(count, insert_seconds, searches, duplicates) -> None:
    print()
    print(f"Patient search on {count:,} patients ({machine_line()})")
    print(f"Inserted in {insert_seconds:.1f} s (bulk_create, batches of {BATCH:,})")
    print()
    print_table(searches, duplicates)
    print()
    print("median/p95: list(patient_search(query=...)[:25]) timed from Python, so with Django's")
    print("own time; db ms: median Execution Time of EXPLAIN ANALYZE of the same queries.")
    print()
    print_plans(searches)
    if duplicates["plan"]:
        print("EXPLAIN ANALYZE, the candidate query of duplicates_detect:")
        for line in duplicates["plan"].splitlines()[:24]:
            print(f"    {line}")
        print()


def main() -> None:
    args = parse_args()
    with own_database(BENCH_DB, keep=args.keep):
        from patients.selectors import patient_search

        rng = random.Random(args.seed)
        print(f"Inserting {args.patients:,} patients ...", flush=True)
        insert_seconds = insert_patients(args.patients, rng)
        print(f"Timing searches ({args.repeat} per kind) ...", flush=True)
        pools = search_pools(rng)
        searches = time_searches(
            args.repeat, rng, args.plan_lines, lambda q: patient_search(query=q), pools
        )
        duplicates = time_duplicates(args.repeat, rng)
        report(args.patients, insert_seconds, searches, duplicates)


if __name__ == "__main__":
    main()
