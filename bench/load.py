"""The load test (issue 16, point 8): 50 locust users for 5 minutes against gunicorn with the
production settings: the front desk's day board and bookings, patients booking through the
portal's API, physicians reading a history (bench/locustfile.py). Target: p95 <= 200 ms and
0 errors.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install -r requirements-bench.txt
    .venv/bin/python bench/load.py                          # 50 users, 5 minutes
    .venv/bin/python bench/load.py --users 20 --minutes 1   # a smoke run

It seeds its own database (clinic_bench_h1_load): one location, 20 providers with a room
each working every day 08:00-17:00, a patient-bookable 15-minute follow-up, 200 patients
(40 of them with portal logins and API tokens), and 150 visits on the board's day. Staff
pages use sessions made server-side here (signed in and past the second factor, as
django-otp records it); API clients use knox tokens made here. Then it collects the static
files (the production storage needs its manifest), starts gunicorn (gunicorn.conf.py), runs
locust headless from .venv-bench, and prints per request kind the count, failures, p50/p95,
then the totals, the load average and the commit.
"""

import argparse
import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

from benchkit import BASE_DIR, machine_line, own_database, server_url, with_database
from served import SLOTS_A_DAY, exit_on_sigterm, gunicorn, seed_clinic

BENCH_DB = "clinic_bench_h1_load"
LOCUST = BASE_DIR / ".venv-bench" / "bin" / "locust"
BOARD_VISITS = 150
PORTAL_PATIENTS = 40


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    return parser.parse_args()


def staff_session(username: str, secret_key: str) -> str:
    """A session as the sign-in pages leave it: signed in, second factor passed. Signed with
    the server's secret key: the session's data and the user's auth hash are keyed by it, and
    under another key the server drops the session and sends the page to the sign-in."""
    import time

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import override_settings
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clinic.users.models import User
    from clinic.users.sessions import RENEWED_AT

    user = User.objects.get(username=username)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="Authenticator app", defaults={"confirmed": True}
    )
    with override_settings(SECRET_KEY=secret_key):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[RENEWED_AT] = int(time.time())
        session.create()
    return session.session_key or ""


def seed_plan(secret_key: str) -> dict:
    """The clinic, the board's day, logins; what the locust users need, as JSON."""
    from clinic.users.actor import Actor
    from clinic.users.models import User
    from clinic.users.roles import Role
    from clinic.users.services import user_upsert
    from clinic.users.tokens import token_issue
    from patients.models import Patient
    from scheduling.models import AppointmentType
    from scheduling.services import appointment_book
    from sites.models import Location, Provider, Room

    clinic = seed_clinic(providers=20)
    location = Location.objects.get(pk=clinic.location_id)
    kind = AppointmentType.objects.get(code=clinic.kind_code)
    board_day = clinic.first_day
    providers = {str(p.pk): p for p in Provider.objects.filter(pk__in=clinic.provider_ids)}
    rooms = {str(r.pk): r for r in Room.objects.filter(location=location)}
    patients = list(Patient.objects.order_by("mrn"))
    by_id = {str(p.pk): p for p in patients}
    opens = datetime.combine(board_day, clock(8), tzinfo=location.zone)
    for n in range(BOARD_VISITS):  # the board's day, booked through the service
        body = clinic.booking(n % 20, 0, n // 20)
        appointment_book(
            patient=by_id[body["patient"]],
            appointment_type=kind,
            provider=providers[body["provider"]],
            location=location,
            room=rooms[body["room"]],
            start=opens + timedelta(minutes=15 * (n // 20)),
            by=Actor.system(),
        )
    portal = []
    for n, patient in enumerate(patients[-PORTAL_PATIENTS:]):
        user = user_upsert(
            username=f"bench-patient-{n}", password=os.urandom(8).hex(), role=Role.PATIENT
        )
        patient.user = user
        patient.save(update_fields=["user"])
        portal.append({"token": token_issue(user=user)[1]})
    user_upsert(username="bench-doc", password=os.urandom(8).hex(), role=Role.CLINICIAN)
    desk = User.objects.get(username=clinic.desk_username)
    # Desk bookings: distinct slots from day 2 on, the first ten providers.
    desk_slots = [
        clinic.booking(provider, day, slot)
        for day in range(2, 40)
        for slot in range(SLOTS_A_DAY)
        for provider in range(10)
    ]
    return {
        "board_path": f"/desk/?location={location.pk}&date={board_day.isoformat()}",
        "desk_session": staff_session(desk.username, secret_key),
        "desk_token": token_issue(user=desk)[1],
        "desk_slots": desk_slots,
        "clinician_session": staff_session("bench-doc", secret_key),
        "patients": portal,
        "patient_days": [(board_day + timedelta(days=d)).isoformat() for d in range(45, 75)],
        "availability_query": {"appointment_type": kind.code, "location": str(location.pk)},
        "history_patients": [str(p.pk) for p in patients[:BOARD_VISITS:3]],
    }


def collect_static(folder: Path, database: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")} | {
        "DJANGO_SETTINGS_MODULE": "clinic.settings.production",
        "DJANGO_SECRET_KEY": "collectstatic-only-" + os.urandom(24).hex(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_ROOT": str(folder),
        "DATABASE_URL": database,
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )


def report(stats_csv: Path) -> None:
    with stats_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    header = f"{'request':<26} {'count':>7} {'fails':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all requests"
        print(
            f"{name:<26} {row['Request Count']:>7} {row['Failure Count']:>6} "
            f"{row['50%']:>7} {row['95%']:>7} {float(row['Max Response Time']):>8.0f}"
        )


def main() -> None:
    exit_on_sigterm()
    args = parse_args()
    if not LOCUST.exists():
        sys.exit(
            "locust is missing: python3 -m venv .venv-bench && "
            ".venv-bench/bin/pip install -r requirements-bench.txt"
        )
    with own_database(BENCH_DB, keep=args.keep), tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        secret_key = secrets.token_urlsafe(50)  # the server's, so the sessions made here hold
        plan = seed_plan(secret_key)
        (folder / "plan.json").write_text(json.dumps(plan))
        database = with_database(server_url(), BENCH_DB)
        print("Collecting static files ...", flush=True)
        collect_static(folder / "static", database)
        extra = {
            "DJANGO_STATIC_ROOT": str(folder / "static"),
            "RATE_LIMIT_BOOKING": "100000/hour",  # 40 portal logins stand for many patients
            "DJANGO_SECRET_KEY": secret_key,
        }
        with gunicorn(database, workers=args.workers, name="load", extra_env=extra) as server:
            seconds = int(args.minutes * 60)
            print(
                f"locust: {args.users} users for {seconds} s on port {server.port} ...", flush=True
            )
            subprocess.run(  # noqa: S603 - locust from requirements-bench.txt
                [
                    str(LOCUST),
                    "-f",
                    str(BASE_DIR / "bench" / "locustfile.py"),
                    "--headless",
                    "--host",
                    f"http://127.0.0.1:{server.port}",
                    "--users",
                    str(args.users),
                    "--spawn-rate",
                    str(max(1, args.users // 10)),
                    "--run-time",
                    f"{seconds}s",
                    "--csv",
                    str(folder / "load"),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=BASE_DIR,
                env=os.environ | {"LOAD_PLAN": str(folder / "plan.json")},
                check=False,
            )
        print(f"\n{args.users} users, {seconds} s, gunicorn {args.workers} workers")
        report(folder / "load_stats.csv")
        failures = folder / "load_failures.csv"
        if failures.exists() and failures.read_text().count("\n") > 1:
            print("failures:\n" + failures.read_text())
        print(machine_line())


if __name__ == "__main__":
    main()
