"""The CPU one booking costs (issue 16, point 4): POST /api/v1/appointments/ called in-process
through the project's WSGI application (clinic.wsgi, the production settings, every
middleware), as gunicorn calls it, on distinct free slots.

Run from the project root:

    .venv/bin/python bench/booking_cpu.py                  # 5 runs of 300 bookings
    .venv/bin/python bench/booking_cpu.py --profile        # and where the Python time goes
    .venv/bin/python bench/booking_cpu.py --help           # --bookings, --runs, --providers

It seeds its own database (clinic_bench_hb_booking_cpu, as bench/throughput.py seeds its:
one location, 20 providers with a room each working every day 08:00-17:00, a 15-minute
follow-up, patients with email, so each booking plans its confirmation and publishes it to
the broker after commit) and signs a front desk user's API token. Per run it books
`--bookings` distinct free slots one after the other (each run on a day of its own) and
prints per booking: this process's CPU (`time.process_time()`: Python, the driver and
the broker's client), the PostgreSQL backend's CPU (utime + stime of the connection's
server process, from /proc, over the run), the wall time, and the statements of one
booking (every execute, savepoints included; BEGIN and COMMIT are the driver's). CPU time
is what caps throughput on a machine of N cores (N / CPU per booking) and is far less
sensitive to other processes than the wall clock; both are printed with the load.
`--profile` runs one more batch under cProfile with a CPU clock and prints each part's
share of the Python CPU and the top functions.
"""

import argparse
import cProfile
import io
import os
import pstats
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchkit import machine_line, own_database, vacuum_analyze
from served import (
    SLOTS_A_DAY,
    BookingClinic,
    exit_on_sigterm,
    process_cpu_seconds,
    seed_clinic,
)

BENCH_DB = "clinic_bench_hb_booking_cpu"
BOOK = "/api/v1/appointments/"
PRODUCTION = "clinic.settings.production"

# The parts of a booking request, as cProfile names them: (label, file ends with, function).
# Cumulative times: a part's callees count in it, so parts may nest (the offered-slot check
# is inside the service).
PARTS = (
    ("the whole request (WSGI)", "django/core/handlers/wsgi.py", "__call__"),
    ("token authentication (knox)", "knox/auth.py", "authenticate"),
    ("the role (groups)", "clinic/users/models.py", "role"),
    ("input validation (DRF)", "rest_framework/serializers.py", "is_valid"),
    ("the booking service", "scheduling/services/booking.py", "appointment_book"),
    ("  rule checks (_booking_errors)", "scheduling/services/booking.py", "_booking_errors"),
    ("  offered-slot check", "scheduling/services/booking.py", "_offered_room"),
    ("  the lock", "clinic/core/db.py", "lock_keys"),
    ("  the insert", "scheduling/services/booking.py", "_insert"),
    ("  message planning", "scheduling/messages.py", "appointment_booked"),
    ("publish after commit (broker)", "notifications/dispatcher.py", "publish"),
    ("the response (serialize)", "rest_framework/serializers.py", "data"),
    ("the audit row", "clinic/audit/services.py", "audit_event_record"),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--providers", type=int, default=20)
    parser.add_argument("--bookings", type=int, default=300, help="bookings a run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="and one run under cProfile")
    parser.add_argument("--top", type=int, default=25, help="functions listed by --profile")
    parser.add_argument(
        "--callees", nargs="*", default=[], help="with --profile: what these functions call"
    )
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    return parser.parse_args()


def production_environment() -> None:
    """What the production settings need to load here (a throwaway secret, the host), the
    log level gunicorn runs with in the benchmarks."""
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def bookings(clinic: BookingClinic, day: int, count: int) -> list[dict]:
    """`count` distinct free slots of one day, consecutive ones with different providers."""
    providers = len(clinic.provider_ids)
    if count > providers * SLOTS_A_DAY:
        sys.exit(f"--bookings is at most {providers * SLOTS_A_DAY} (a day of every provider)")
    return [clinic.booking(n % providers, day, n // providers) for n in range(count)]


def environ_of(body: bytes, token: str) -> dict:
    """The WSGI environ gunicorn builds for the POST behind a TLS proxy."""
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": BOOK,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "HTTP_ACCEPT": "application/json",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


@dataclass
class Answer:
    status: int
    body: bytes


def call(application: Callable, environ: dict) -> Answer:
    got: list[str] = []

    def start_response(status: str, headers: list, exc_info=None) -> None:
        got.append(status)

    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()  # request_finished: what gunicorn does after the answer
    return Answer(int(got[0].split()[0]), body)


def backend_pid() -> int | None:
    """The PostgreSQL server process of Django's connection, None while it has none."""
    from django.db import connection

    return connection.connection.info.backend_pid if connection.connection else None


class BackendClock:
    """The CPU of the PostgreSQL backends the bookings used: the connection is persistent
    (CONN_MAX_AGE) but renewed when it grows old, so each booking adds what its backend
    spent since the last reading (all of a new backend's, its start-up included)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.pid = backend_pid()
        self.last = (process_cpu_seconds(self.pid) or 0.0) if self.pid else 0.0

    def read(self) -> None:
        pid = backend_pid()
        now = process_cpu_seconds(pid) if pid is not None else None
        if pid is None or now is None:
            return
        self.seconds += now - (self.last if pid == self.pid else 0.0)
        self.pid, self.last = pid, now


@dataclass
class Run:
    cpu_ms: list[float]
    wall_ms: list[float]
    backend_ms: float  # per booking, over the run
    statuses: dict[int, int]
    refused: bytes


def book_all(application: Callable, token: str, bodies: list[dict]) -> Run:
    import json

    cpu, wall, statuses = [], [], {}
    refused = b""
    backend = BackendClock()
    for body in bodies:
        environ = environ_of(json.dumps(body).encode(), token)
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        answer = call(application, environ)
        cpu.append((time.process_time() - cpu_started) * 1000)
        wall.append((time.perf_counter() - wall_started) * 1000)
        backend.read()
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        if answer.status != 201 and not refused:
            refused = answer.body[:300]
    return Run(cpu, wall, backend.seconds * 1000 / len(bodies), statuses, refused)


def statements_of_one(application: Callable, token: str, body: dict) -> list[str]:
    import json

    from django.db import connection

    seen: list[str] = []

    def count(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        answer = call(application, environ_of(json.dumps(body).encode(), token))
    if answer.status != 201:
        sys.exit(f"the counted booking was refused: {answer.status} {answer.body[:300]!r}")
    return seen


def profile(
    application: Callable, token: str, bodies: list[dict], top: int, callees: list[str]
) -> None:
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    run = book_all(application, token, bodies)
    profiler.disable()
    if run.statuses.get(201) != len(bodies):
        sys.exit(f"profiled run refused some: {run.statuses} {run.refused!r}")
    stats = pstats.Stats(profiler)
    whole = part_seconds(stats, *PARTS[0][1:])
    print(f"\nWhere the Python CPU goes (cProfile, CPU clock, {len(bodies)} bookings):")
    print(f"{'part':<36} {'ms a booking':>12} {'share':>7}")
    for label, path, function in PARTS:
        seconds = part_seconds(stats, path, function)
        print(
            f"{label:<36} {seconds * 1000 / len(bodies):>12.2f} "
            f"{100 * seconds / whole if whole else 0:>6.1f}%"
        )
    print(f"\nTop {top} functions by own time:")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print("\n".join(out.getvalue().splitlines()[6:]))
    for function in callees:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_callees(function)
        print("\n".join(out.getvalue().splitlines()[2:]))


def part_seconds(stats: pstats.Stats, path: str, function: str) -> float:
    """The cumulative time of the named function(s) (recursion counted once by cProfile)."""
    return sum(
        row[3]
        for (filename, _, name), row in stats.stats.items()  # type: ignore[attr-defined]
        if name == function and filename.endswith(path)
    )


def print_runs(runs: list[Run], bookings_a_run: int) -> None:
    header = (
        f"{'run':>4} {'201':>5} {'cpu ms':>7} {'pg ms':>6} {'sum ms':>7} {'cap/s':>6} "
        f"{'wall p50':>8} {'wall p95':>8}"
    )
    print(header)
    print("-" * len(header))
    for number, run in enumerate(runs, 1):
        cpu = statistics.median(run.cpu_ms)
        total = cpu + run.backend_ms
        wall = sorted(run.wall_ms)
        print(
            f"{number:>4} {run.statuses.get(201, 0):>5} {cpu:>7.2f} {run.backend_ms:>6.2f} "
            f"{total:>7.2f} {2000 / total:>6.0f} {statistics.median(wall):>8.2f} "
            f"{wall[int(0.95 * (len(wall) - 1))]:>8.2f}"
        )
        if run.statuses.get(201, 0) != bookings_a_run:
            print(f"     refused: {run.statuses} {run.refused!r}")
    cpu = statistics.median(statistics.median(r.cpu_ms) for r in runs)
    backend = statistics.median(r.backend_ms for r in runs)
    wall = statistics.median(statistics.median(r.wall_ms) for r in runs)
    print(
        f"\nmedian of {len(runs)} runs: {cpu:.2f} ms Python CPU + {backend:.2f} ms PostgreSQL "
        f"backend CPU = {cpu + backend:.2f} ms a booking; two cores cap near "
        f"{2000 / (cpu + backend):.0f} bookings/s before the HTTP server's own work; "
        f"wall p50 {wall:.2f} ms"
    )


def main() -> None:
    exit_on_sigterm()
    args = parse_args()
    production_environment()
    load_at_start = os.getloadavg()
    with own_database(BENCH_DB, keep=args.keep, settings=PRODUCTION):
        from clinic.users.models import User
        from clinic.users.tokens import token_issue
        from clinic.wsgi import application
        from scheduling.overlaps import overlapping_pairs

        clinic = seed_clinic(providers=args.providers)
        vacuum_analyze()
        _, token = token_issue(user=User.objects.get(username=clinic.desk_username))
        warm = book_all(application, token, bookings(clinic, 0, 2 * args.providers))
        if warm.statuses.get(201) != 2 * args.providers:
            sys.exit(f"warm-up refused: {warm.statuses} {warm.refused!r}")
        statements = statements_of_one(application, token, clinic.booking(0, 1, SLOTS_A_DAY - 1))
        print(
            f"{args.bookings} bookings a run, one after the other, {args.providers} providers; "
            f"load average {' '.join(f'{v:.2f}' for v in load_at_start)} at the start"
        )
        print(f"statements of one booking: {len(statements)}")
        for sql in statements:
            print(f"  {' '.join(sql.split())[:110]}")
        print()
        runs = [
            book_all(application, token, bookings(clinic, day, args.bookings))
            for day in range(2, 2 + args.runs)
        ]
        print_runs(runs, args.bookings)
        if args.profile:
            bodies = bookings(clinic, 2 + args.runs, args.bookings)
            profile(application, token, bodies, args.top, args.callees)
        print(f"\noverlapping visits (SQL self-join): {overlapping_pairs()}")
        print(machine_line())


if __name__ == "__main__":
    main()
