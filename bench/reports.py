"""Every registered report (operations and outcomes) on a clinic of 1,000,000 appointments
and 200,000 procedure outcomes: the time to build the summary tables, then the median and
p95 of building each report over 28 days, a year and the whole range, with the queries each
makes and their server-side time (EXPLAIN ANALYZE), and an incremental refresh.

    .venv/bin/python bench/reports.py                       # full size (tens of minutes)
    .venv/bin/python bench/reports.py --appointments 20000 --outcomes 4000 --repeat 5

It seeds its own database (`clinic_bench_reports`, dropped at the end unless --keep) with
INSERT ... SELECT over generate_series: rows are made in PostgreSQL, not in Python. Each
column a seed does not name gets the model's own default (reports/../bench: `insert_series`).
"""

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import (
    machine_line,
    measure,
    own_database,
    server_url,
    setup_django,
    vacuum_analyze,
)

BENCH_DB = "clinic_bench_reports"
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
# 100 providers seeing 20 visits a weekday: 1,000,000 visits take about 100 weeks, so the whole
# range fits the report filter's 731 days.
PROVIDERS_PER_LOCATION = 25
SLOTS_PER_DAY = 20  # half-hour visits, 8:00 to 18:00
OUTCOME_DAYS = (14, 90, 180)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--outcomes", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per report (>= 5)")
    parser.add_argument("--keep", action="store_true", help="keep the database to explore it")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the reports on the database a --keep run left, without seeding it again",
    )
    args = parser.parse_args()
    args.repeat = max(args.repeat, 5)
    return args


def insert_series(model, count: int, columns: dict[str, str], source: str = "") -> None:
    """INSERT `count` rows of `model`, row n (1..count) from `columns` (SQL expressions of n,
    by column name); every other column gets the model's default, NULL or ''."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED, UUIDField

    names, values = [], []
    with connection.cursor() as cursor:
        for field in model._meta.concrete_fields:
            column = field.column
            if column in columns:
                expression = columns[column]
            elif field.db_default is not NOT_PROVIDED:
                continue
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                expression = "now()"
            elif field.primary_key and isinstance(field, UUIDField):
                expression = "gen_random_uuid()"
            elif field.has_default() or (field.empty_strings_allowed and not field.null):
                value = field.get_db_prep_save(field.get_default(), connection)
                expression = cursor.mogrify("%s", [value]).decode()
            elif field.null:
                expression = "NULL"
            else:
                raise ValueError(f"{model.__name__}.{field.name} needs a value")
            names.append(f'"{column}"')
            values.append(expression)
        # No parameters: the expressions use `%` (modulo), which psycopg2 would read as one.
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) "  # noqa: S608 (bench's own constants)
            f"SELECT {', '.join(values)} FROM generate_series(1, {int(count)}) AS n {source}"
        )


def seed_sites() -> None:
    from scheduling.demo import APPOINTMENT_TYPES
    from scheduling.models import AppointmentType, WorkingHours
    from sites.models import Location, OpeningHours, Provider, Room

    for index, zone in enumerate(ZONES):
        location = Location.objects.create(
            code=f"site{index}", name=f"Site {index}", time_zone=zone
        )
        for weekday in range(5):
            OpeningHours.objects.create(
                location=location, weekday=weekday, opens="08:00", closes="18:00"
            )
        for number in range(PROVIDERS_PER_LOCATION):
            provider = Provider.objects.create(
                first_name=f"P{index}", last_name=f"Provider {number}"
            )
            Room.objects.create(location=location, name=f"Room {number}", kind="consult")
            for weekday in range(5):
                WorkingHours.objects.create(
                    provider=provider,
                    location=location,
                    weekday=weekday,
                    start_time="08:00",
                    end_time="18:00",
                )
    for code, name, kind, minutes, _after, room_kind, _bookable, _colour in APPOINTMENT_TYPES:
        AppointmentType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "duration_minutes": minutes,
                "room_kind": room_kind,
            },
        )


def seed_patients(count: int) -> None:
    from patients.models import Patient

    insert_series(
        Patient,
        count,
        {
            "mrn": "'B' || lpad(n::text, 8, '0')",
            "legal_first_name": "'First' || n",
            "legal_last_name": "'Last' || (n % 997)",
            "date_of_birth": "date '1940-01-01' + (n % 25000)",
            "created_at": "now()",
            "updated_at": "now()",
        },
    )


def seed_appointments(count: int, today: date) -> None:
    """Half-hour visits, 20 a weekday for each provider in their own room, ending 30 days
    ahead: no two overlap for a provider, a room or a patient (the exclusion constraints)."""
    from django.db import connection

    from notifications.models import Message
    from scheduling.models import Appointment, AppointmentStatusChange

    providers = PROVIDERS_PER_LOCATION * len(ZONES)
    per_day = providers * SLOTS_PER_DAY
    weekdays = -(-count // per_day)
    first_monday = today + timedelta(days=30) - timedelta(weeks=weekdays // 5 + 1)
    first_monday -= timedelta(days=first_monday.weekday())
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE scheduling_appointment DISABLE TRIGGER USER")
        cursor.execute(
            """CREATE TEMP TABLE seats AS
               SELECT row_number() OVER (ORDER BY p.id) - 1 AS seat, p.id AS provider_id,
                      r.id AS room_id, l.id AS location_id, l.time_zone
               FROM scheduling_provider p
               JOIN scheduling_room r ON r.name = 'Room ' || split_part(p.last_name, ' ', 2)
               JOIN scheduling_location l ON l.id = r.location_id AND l.name = 'Site ' || substr(p.first_name, 2)"""
        )
        cursor.execute(
            "CREATE TEMP TABLE kinds AS SELECT row_number() OVER (ORDER BY code) - 1 AS k, id FROM scheduling_appointmenttype"
        )
        cursor.execute(
            "CREATE TEMP TABLE people AS SELECT row_number() OVER (ORDER BY mrn) - 1 AS p, id FROM patients_patient"
        )
        cursor.execute("SELECT count(*) FROM people")
        (patients,) = cursor.fetchone()
    day = f"(date '{first_monday}' + 7 * ((n / {per_day}) / 5) + (n / {per_day}) % 5)"
    local_start = (
        f"({day} + time '08:00' + ((n % {per_day}) / {providers}) * interval '30 minutes')"
    )
    start = f"({local_start} AT TIME ZONE s.time_zone)"
    past = f"{start} < now()"
    status = (
        f"CASE WHEN NOT ({past}) THEN 'booked' WHEN n % 100 < 6 THEN 'no_show' "
        "WHEN n % 100 < 14 THEN 'cancelled' ELSE 'completed' END"
    )
    done = f"({past}) AND n % 100 >= 14"
    join = (
        f"JOIN seats s ON s.seat = n % {providers} "
        f"JOIN kinds k ON k.k = n % 5 JOIN people pp ON pp.p = n % {patients}"
    )
    insert_series(
        Appointment,
        count,
        {
            "patient_id": "pp.id",
            "appointment_type_id": "k.id",
            "provider_id": "s.provider_id",
            "location_id": "s.location_id",
            "room_id": "s.room_id",
            "start": start,
            "end": f"{start} + interval '20 minutes'",
            "block_start": start,
            "block_end": f"{start} + interval '30 minutes'",
            "status": status,
            "cancel_reason": f"CASE WHEN {past} AND n % 100 BETWEEN 6 AND 13 THEN 'Sick' ELSE '' END",
            "created_at": f"{start} - (n % 60) * interval '1 day' - interval '1 hour'",
            "updated_at": "now()",
            "confirmed_at": f"CASE WHEN n % 3 = 0 THEN {start} - interval '1 day' END",
            "checked_in_at": f"CASE WHEN {done} THEN {start} - (n % 15) * interval '1 minute' END",
            "in_room_at": f"CASE WHEN {done} THEN {start} + (n % 20) * interval '1 minute' END",
            "completed_at": f"CASE WHEN {done} THEN {start} + (20 + n % 25) * interval '1 minute' END",
        },
        join,
    )
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE scheduling_appointment ENABLE TRIGGER USER")
        cursor.execute(
            "CREATE TEMP TABLE visits AS SELECT row_number() OVER (ORDER BY start, id) AS vn, * FROM scheduling_appointment"
        )
    insert_series(
        AppointmentStatusChange,
        count,
        {
            "appointment_id": "v.id",
            "from_status": "'booked'",
            "to_status": "'cancelled'",
            "at": "v.start - (v.vn % 72) * interval '1 hour'",
            "channel": "'desk'",
        },
        "JOIN visits v ON v.vn = n AND v.status = 'cancelled'",
    )
    insert_series(
        Message,
        count,
        {
            "patient_id": "v.patient_id",
            "location_id": "v.location_id",
            "channel": "CASE WHEN n % 4 = 0 THEN 'sms' ELSE 'email' END",
            "kind": "'appointment_reminder'",
            "subject_type": "'appointment'",
            "subject_id": "v.id",
            "variant": "'24h'",
            "due_at": "v.start - interval '1 day'",
            "send_after": "v.start - interval '1 day'",
            "state": "CASE WHEN v.start > now() THEN 'pending' WHEN n % 20 = 0 THEN 'failed' "
            "WHEN n % 20 = 1 THEN 'cancelled' ELSE 'sent' END",
            "sent_at": "CASE WHEN v.start <= now() AND n % 20 > 1 THEN v.start - interval '1 day' END",
            "created_at": "now()",
            "updated_at": "now()",
        },
        "JOIN visits v ON v.vn = n AND n % 2 = 0",
    )


def seed_waitlist(count: int) -> None:
    from scheduling.models import WaitlistEntry, WaitlistOffer

    insert_series(
        WaitlistEntry,
        count,
        {
            "patient_id": "v.patient_id",
            "appointment_type_id": "v.appointment_type_id",
            "earliest": "v.start::date",
            "latest": "v.start::date + 14",
            "status": "(ARRAY['booked', 'withdrawn', 'waiting', 'booked'])[n % 4 + 1]",
            "created_at": "v.created_at - interval '2 days'",
        },
        "JOIN visits v ON v.vn = n * 7",
    )
    insert_series(
        WaitlistOffer,
        count,
        {
            "entry_id": "e.id",
            "provider_id": "v.provider_id",
            "location_id": "v.location_id",
            "start": "v.start",
            "expires_at": "v.created_at + interval '4 hours'",
            "status": "'accepted'",
            "appointment_id": "v.id",
            "created_at": "v.created_at",
        },
        "JOIN visits v ON v.vn = n * 7 JOIN scheduling_waitlistentry e "
        "ON e.patient_id = v.patient_id AND e.created_at = v.created_at - interval '2 days' "
        "AND e.status = 'booked'",
    )


def seed_outcomes(count: int) -> None:
    """A procedure record for every three outcomes, spread over the completed visits, its
    outcomes at 2 weeks, 3 and 6 months; a survey sent at 2 weeks (answered by two in three);
    and for every other record an ODI before and at 3 months."""
    from django.db import connection

    from notifications.models import Message
    from patients.models import Assessment
    from procedures.models import ProcedureOutcome, ProcedureRecord

    records = max(1, count // len(OUTCOME_DAYS))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE catalog AS SELECT row_number() OVER (ORDER BY code) - 1 AS c, id FROM procedures_proceduretype WHERE is_active"
        )
        cursor.execute("SELECT count(*) FROM catalog")
        (types,) = cursor.fetchone()
        cursor.execute(
            "CREATE TEMP TABLE kept AS SELECT row_number() OVER (ORDER BY start, id) AS kn, * FROM visits WHERE status = 'completed'"
        )
        cursor.execute("SELECT count(*) FROM kept")
        (kept,) = cursor.fetchone()
        cursor.execute("ALTER TABLE procedures_procedurerecord DISABLE TRIGGER USER")
    insert_series(
        ProcedureRecord,
        records,
        {
            "patient_id": "v.patient_id",
            "procedure_type_id": "c.id",
            "performed_at": "v.start",
            "performer_id": "v.provider_id",
            "location_id": "v.location_id",
            "guidance": "'fluoroscopy'",
            "pre_nrs": "5 + n % 6",
            "post_nrs": "n % 5",
            "complications": "CASE WHEN n % 50 = 0 THEN 'Vasovagal episode' ELSE '' END",
            "created_at": "now()",
            "updated_at": "now()",
        },
        # Spread evenly over the completed visits, to the last one.
        f"JOIN kept v ON v.kn = (n::bigint * {kept}) / {records} JOIN catalog c ON c.c = n % {types}",
    )
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE procedures_procedurerecord ENABLE TRIGGER USER")
        cursor.execute(
            "CREATE TEMP TABLE done AS SELECT row_number() OVER (ORDER BY id) AS dn, id, patient_id, location_id, performed_at, pre_nrs FROM procedures_procedurerecord"
        )
    for offset, days in enumerate(OUTCOME_DAYS):
        insert_series(
            ProcedureOutcome,
            records,
            {
                "record_id": "d.id",
                "measured_at": f"d.performed_at + interval '{days} days'",
                "nrs": f"(n + {offset}) % (d.pre_nrs + 1)",
                "pgic": f"1 + (n + {offset}) % 7",
                "percent_relief": f"round(100.0 * (d.pre_nrs - (n + {offset}) % (d.pre_nrs + 1)) / d.pre_nrs, 1)",
                "source": "CASE WHEN n % 3 > 0 THEN 'survey' ELSE 'clinic' END"
                if days == OUTCOME_DAYS[0]
                else "'clinic'",
            },
            "JOIN done d ON d.dn = n",
        )
    insert_series(
        Message,
        records,
        {
            "patient_id": "d.patient_id",
            "location_id": "d.location_id",
            "channel": "'email'",
            "kind": "'outcome_survey'",
            "subject_type": "'procedure_record'",
            "subject_id": "d.id",
            "variant": "'14d'",
            "due_at": "d.performed_at + interval '14 days'",
            "send_after": "d.performed_at + interval '14 days'",
            "state": "'sent'",
            "sent_at": "d.performed_at + interval '14 days'",
            "created_at": "now()",
            "updated_at": "now()",
        },
        "JOIN done d ON d.dn = n",
    )
    for name, days, total in (("baseline", -7, "40 + n % 30"), ("3 months", 91, "20 + n % 40")):
        insert_series(
            Assessment,
            records // 2,
            {
                "patient_id": "d.patient_id",
                "instrument": "'odi'",
                "items": "'{}'::jsonb",
                "total": total,
                "taken_at": f"d.performed_at + interval '{days} days'",
                "recorded_at": "now()",
            },
            "JOIN done d ON d.dn = 2 * n",
        )
        print(f"  ODI {name}: {records // 2:,}", flush=True)


def counts() -> str:
    from procedures.models import ProcedureOutcome
    from scheduling.models import Appointment

    return f"{Appointment.objects.count():,} appointments, {ProcedureOutcome.objects.count():,} outcomes"


SPANS = {"28 days": 27, "365 days": 364}


def timed_refresh(label: str, **options) -> None:
    from reports.summaries import summaries_refresh

    started = time.perf_counter()
    refreshed = summaries_refresh(**options)
    print(f"{label}: {time.perf_counter() - started:.1f} s ({refreshed})", flush=True)


def touch_today(visits: int) -> None:
    """Some of today's and yesterday's visits change, as a desk's morning would: the changes
    the next refresh takes in."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE scheduling_appointment SET confirmed_at = now() WHERE id IN ("
            "SELECT id FROM scheduling_appointment WHERE start >= now() - interval '1 day' "
            "ORDER BY start LIMIT %s)",
            [visits],
        )


def server_ms(call) -> float:
    """The server's own time for a call's queries (planning + execution, EXPLAIN ANALYZE
    without per-node timing, which would inflate the sorts)."""
    import json

    from django.db import connection

    from reports.sql import NO_JIT

    total = 0.0

    def explain(execute, sql, params, many, context):
        nonlocal total
        with connection.connection.cursor() as cursor:  # the driver's own: not wrapped again
            setting, _, query = sql.rpartition(NO_JIT)
            cursor.execute(
                f"{setting}{_}EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {query}", params
            )
            (plan,) = cursor.fetchone()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            total += plan[0]["Planning Time"] + plan[0]["Execution Time"]
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        call()
    return total


def cpu_ms(call, repeat: int) -> float:
    """The median CPU time of a call, this process's and its database server process's, with
    parallel query off (its workers are other processes): what the call costs whatever else
    the machine is running, and about its time on an idle machine."""
    import statistics

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    tick = os.sysconf("SC_CLK_TCK")

    def server_cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    spent = []
    for _ in range(repeat):
        server, own = server_cpu(), time.process_time()
        call()
        spent.append((server_cpu() - server + time.process_time() - own) * 1000)
    with connection.cursor() as cursor:
        cursor.execute("RESET max_parallel_workers_per_gather")
    return statistics.median(spent)


def first_day():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min((a.start AT TIME ZONE l.time_zone)::date), max((a.start AT TIME ZONE l.time_zone)::date) "
            "FROM scheduling_appointment a JOIN scheduling_location l ON l.id = a.location_id"
        )
        return cursor.fetchone()


def seed_and_summarize(args: argparse.Namespace) -> None:
    from django.utils import timezone

    today = timezone.localdate()
    print("Seeding ...", flush=True)
    seed_sites()
    seed_patients(max(1000, args.appointments // 20))
    seed_appointments(args.appointments, today)
    seed_waitlist(max(10, args.appointments // 100))
    seed_outcomes(args.outcomes)
    vacuum_analyze()
    print(f"Seeded {counts()}.")
    timed_refresh("Summaries built from scratch", full=True, wait=True, progress=print)
    vacuum_analyze()
    touch_today(200)
    timed_refresh("Incremental refresh after 200 visits changed")


@contextlib.contextmanager
def kept_database() -> Iterator[None]:
    setup_django(server_url(), BENCH_DB)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Takes in today's date (a rebuild when a migration cleared the summaries' state).
    timed_refresh("Refresh", wait=True)
    vacuum_analyze()
    yield


def main() -> None:
    args = parse_args()
    with kept_database() if args.reuse else own_database(BENCH_DB, keep=args.keep):
        from django.utils import timezone

        from reports.registry import REPORTS, Filters

        if not args.reuse:
            seed_and_summarize(args)
        today = timezone.localdate()
        first, last = first_day()
        spans = {span: (today - timedelta(days=days), today) for span, days in SPANS.items()}
        spans[f"whole ({(last - first).days + 1} d)"] = (first, last)
        results = []
        for name, report in REPORTS.items():
            for span, (start, end) in spans.items():
                filters = Filters(start=start, end=end)
                print(f"Timing {name} over {span} ({args.repeat} runs) ...", flush=True)
                build = lambda r=report, f=filters: r.build(f)  # noqa: E731
                figures = measure(name, build, args.repeat)
                figures["server"] = server_ms(build)
                figures["cpu"] = cpu_ms(build, args.repeat)
                results.append((name, span, figures))
        print()
        print(
            f"{'report':<14} {'span':<15} {'median ms':>10} {'p95 ms':>8} {'server ms':>10} "
            f"{'CPU ms':>8} {'queries':>8}"
        )
        print("-" * 79)
        for name, span, figures in results:
            print(
                f"{name:<14} {span:<15} {figures['p50']:>10.1f} {figures['p95']:>8.1f} "
                f"{figures['server']:>10.1f} {figures['cpu']:>8.1f} {figures['queries']:>8}"
            )
        print()
        print(machine_line())


if __name__ == "__main__":
    main()
