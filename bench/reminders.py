"""Benchmark of the reminder drain: N appointment reminders fall due at once, and real Celery
workers (with beat running the dispatcher, as `make run` does) deliver them to a local SMTP
server. It measures the time from the moment they are due until the last one is sent, and
checks that none was lost and none sent twice.

Run from the project root:

    .venv/bin/python bench/reminders.py                               # 10,000, 1 worker, 5 runs
    .venv/bin/python bench/reminders.py --messages 50000 --workers 2  # the burst
    .venv/bin/python bench/reminders.py --email file                  # the keyed file backend
    .venv/bin/python bench/reminders.py --help

It never touches the dev database: like the other benchmarks it drops and recreates a
database of its own, clinic_bench_reminders, on the server of DATABASE_URL, and migrates it.
It seeds one location, 50 providers with a room each, up to 5,000 patients who take email,
and one booked appointment per message over the coming weeks. Per run it writes one
`appointment_reminder` row per appointment, not yet due (ANALYZE), then starts the clock
and makes them all due in one UPDATE, as a morning's 24-hour reminders become due together.
Beat (every NOTIFY_DISPATCH_SECONDS, 5 s) queues the dispatcher on its own queue; the
dispatcher claims every due row and publishes send tasks of NOTIFY_SEND_BATCH_SIZE ids;
each task renders its reminders (with their confirm and cancel links) and sends them over
one SMTP connection.

The workers (`--workers`, each `--concurrency` processes, INFO logging as in the Procfile)
and beat start once, on queues of their own on the broker (CELERY_BROKER_URL, by default
REDIS_URL's Redis; an amqp:// URL for RabbitMQ), before the first run. The
SMTP server is bench/smtp_sink.py (aiosmtpd) in a process of its own, counting sessions
and the outbox key of every message it takes. After each run the benchmark checks every row
is `sent` after one attempt and the sink took each key exactly once, and prints the run's
figures: time to the first claim (beat's wait and the dispatcher), time to the last send,
messages per second, CPU seconds per 1,000 messages in the workers, and SMTP sessions. Then the medians, the load and the commit.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from benchkit import BASE_DIR, machine_line, own_database

BENCH_DB = "clinic_bench_reminders"
PROVIDERS = 50
MAX_PATIENTS = 5000
SLOT = timedelta(minutes=15)
SLOTS_PER_DAY = 40  # 08:00-18:00 local
ZONE = "America/New_York"
FAR_AHEAD = timedelta(days=3650)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000, help="reminders due at once")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (hosts)")
    parser.add_argument("--concurrency", type=int, default=2, help="pool size of each worker")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (the median is kept)")
    parser.add_argument(
        "--email",
        choices=["smtp", "file"],
        default="smtp",
        help="smtp: the aiosmtpd sink over SMTP; file: the keyed file backend",
    )
    parser.add_argument(
        "--stall", type=float, default=90, help="fail a run after this long without a send"
    )
    parser.add_argument(
        "--keep", action="store_true", help=f"keep the {BENCH_DB} database and the logs"
    )
    return parser.parse_args()


# --- Processes --------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Child processes in sessions of their own, each logging to a file; all stopped at the
    end (SIGTERM to the group, then SIGKILL)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("w")
        process = subprocess.Popen(  # noqa: S603 - our own programs, no outside input
            args,
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log_path = self.folder / f"{name}.log"  # type: ignore[attr-defined]
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def wait_for_log(process: subprocess.Popen, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    path: Path = process.log_path  # type: ignore[attr-defined]
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{path.name} stopped; see {path}")
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {text!r} in {path}")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their children, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    seen: set[int] = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        todo += [int(child) for child in children]
    return total / ticks


# --- The clinic ---------------------------------------------------------------------------------


@dataclass
class Clinic:
    appointments: list  # (id, patient_id, start)
    location_id: object


def seed_clinic(count: int) -> Clinic:
    """One location, PROVIDERS providers and rooms, patients who take email, and `count`
    booked appointments in 15-minute slots from tomorrow (none overlaps for a provider, a room
    or a patient)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from notifications.clock import at_local
    from patients.models import Patient
    from patients.services import MRN_SEQUENCE
    from scheduling.models import Appointment, AppointmentType
    from sites.models import Location, Provider, Room

    location = Location.objects.create(code="bench", name="Bench", time_zone=ZONE)
    providers = [
        Provider.objects.create(first_name=f"P{n}", last_name="Bench") for n in range(PROVIDERS)
    ]
    for provider in providers:
        provider.locations.add(location)
    rooms = [
        Room.objects.create(location=location, name=f"Room {n}", kind="consult")
        for n in range(PROVIDERS)
    ]
    visit = AppointmentType.objects.create(
        code="follow_up",
        name="Follow-up",
        kind="follow_up",
        duration_minutes=15,
        room_kind="consult",
    )
    patients = min(count, MAX_PATIENTS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [MRN_SEQUENCE, patients])
        mrns = [f"{value:08d}" for (value,) in cursor.fetchall()]
    patient_ids = [
        p.pk
        for p in Patient.objects.bulk_create(
            [
                Patient(
                    mrn=mrn,
                    legal_first_name=f"Pat{n}",
                    legal_last_name="Bench",
                    date_of_birth=date(1960, 1, 1),
                    email=f"pat{n}@example.com",
                    preferred_channel="email",
                    consent_email=True,
                )
                for n, mrn in enumerate(mrns)
            ],
            batch_size=2000,
        )
    ]
    zone = location.zone
    first_day = timezone.now().astimezone(zone).date() + timedelta(days=1)
    rows = []
    for n in range(count):
        slot, provider = divmod(n, PROVIDERS)
        day, in_day = divmod(slot, SLOTS_PER_DAY)
        start = (
            at_local(first_day + timedelta(days=day), datetime.min.time(), zone)
            + timedelta(hours=8)
            + in_day * SLOT
        )
        rows.append(
            Appointment(
                patient_id=patient_ids[n % patients],
                appointment_type=visit,
                provider=providers[provider],
                location=location,
                room=rooms[provider],
                start=start,
                end=start + SLOT,
                block_start=start,
                block_end=start + SLOT,
            )
        )
    with transaction.atomic():
        Appointment.objects.bulk_create(rows, batch_size=5000)
    return Clinic([(a.pk, a.patient_id, a.start) for a in rows], location.pk)


def write_reminders(clinic: Clinic) -> list[str]:
    """A fresh outbox: one 24-hour reminder per appointment, not due yet."""
    from django.db import connection
    from django.utils import timezone

    from notifications.models import Message, MessageKind, SubjectType

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE notifications_linktoken, notifications_message")
    later = timezone.now() + FAR_AHEAD
    rows = [
        Message(
            patient_id=patient_id,
            location_id=clinic.location_id,
            channel="email",
            kind=MessageKind.APPOINTMENT_REMINDER,
            subject_type=SubjectType.APPOINTMENT,
            subject_id=appointment_id,
            variant="24h",
            due_at=later,
            send_after=later,
            expires_at=start,
        )
        for appointment_id, patient_id, start in clinic.appointments
    ]
    ids = [str(m.pk) for m in Message.objects.bulk_create(rows, batch_size=5000)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_message")
    return ids


def make_due() -> datetime:
    """Every reminder falls due now, in one statement; returns that moment."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE notifications_message SET due_at = %s, send_after = %s", [now, now])
    return now


def progress() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT state, count(*) FROM notifications_message GROUP BY state")
        return dict(cursor.fetchall())


def wait_until_done(total: int, stall: float, workers: list[subprocess.Popen]) -> dict[str, int]:
    done_states = ("sent", "failed", "cancelled")
    best, last_change = -1, time.monotonic()
    while True:
        states = progress()
        done = sum(states.get(s, 0) for s in done_states)
        if done >= total:
            return states
        for worker in workers:
            if worker.poll() is not None:
                sys.exit(f"a worker stopped; see {worker.log_path}")  # type: ignore[attr-defined]
        if done > best:
            best, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > stall:
            sys.exit(f"no progress for {stall:.0f} s: {states}")
        time.sleep(0.25)


# --- What reached the provider -----------------------------------------------------------------


class Sink:
    """What the email provider took: the SMTP sink's log, or the keyed file backend's."""

    def __init__(self, kind: str, folder: Path, pid: int | None) -> None:
        self.kind = kind
        self.pid = pid  # the SMTP sink's process, whose CPU is counted apart
        self.path = folder / ("smtp-sink.log" if kind == "smtp" else "email/deliveries.log")
        self.duplicates_path = folder / "email" / "duplicates.log"
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def since_mark(self) -> tuple[Counter, int, int]:
        """(deliveries per key, sessions, keys handed over again) since mark()."""
        text = self.path.read_text()[self.offset :] if self.path.exists() else ""
        keys: Counter = Counter()
        sessions = 0
        for line in text.split("\n"):
            if self.kind == "file" and line:
                keys[line] += 1
            elif line == "session":
                sessions += 1
            elif line.startswith("message "):
                keys[line.split(" ", 1)[1]] += 1
        again = 0
        if self.kind == "file" and self.duplicates_path.exists():
            again = len(self.duplicates_path.read_text().split())
        return keys, sessions, again


# --- One run ------------------------------------------------------------------------------------


@dataclass
class Run:
    first_claim: float
    last_sent: float
    rate: float
    worker_cpu: float
    sink_cpu: float
    sessions: int
    lost: int
    duplicated: int


def one_run(clinic: Clinic, sink: Sink, workers: list, stall: float) -> Run:
    from django.db.models import Max, Min

    from notifications.models import Message

    ids = write_reminders(clinic)
    sink.mark()
    worker_pids = [w.pid for w in workers]
    sink_pids = [sink.pid] if sink.pid else []
    cpu_before, sink_before = cpu_seconds(worker_pids), cpu_seconds(sink_pids)
    due = make_due()
    states = wait_until_done(len(ids), stall, workers)
    worker_cpu = cpu_seconds(worker_pids) - cpu_before
    sink_cpu = cpu_seconds(sink_pids) - sink_before
    times = Message.objects.aggregate(first=Min("claimed_at"), last=Max("sent_at"))
    attempts = Counter(Message.objects.values_list("attempts", flat=True))
    keys, sessions, again = sink.since_mark()
    lost = len(set(ids) - set(keys)) + sum(n for s, n in states.items() if s != "sent")
    duplicated = sum(n - 1 for n in keys.values() if n > 1) + again
    extra = set(keys) - set(ids)
    if extra or attempts != {1: len(ids)}:
        sys.exit(f"unexpected: {len(extra)} unknown keys, attempts {dict(attempts)}")
    last = (times["last"] - due).total_seconds()
    first = (times["first"] - due).total_seconds()
    return Run(
        first_claim=first,
        last_sent=last,
        rate=len(ids) / last,
        worker_cpu=worker_cpu * 1000 / len(ids),
        sink_cpu=sink_cpu * 1000 / len(ids),
        sessions=sessions,
        lost=lost,
        duplicated=duplicated,
    )


# --- The setup around the runs ------------------------------------------------------------------


def child_env(args: argparse.Namespace, folder: Path, smtp_port: int, tag: str) -> dict[str, str]:
    env = dict(os.environ)  # DATABASE_URL, DJANGO_SETTINGS_MODULE and DJANGO_DEBUG from benchkit
    env.update(
        NOTIFICATIONS_QUEUE=f"{tag}-notifications",
        NOTIFY_DISPATCH_QUEUE=f"{tag}-dispatch",
        NOTIFY_DISPATCH_SECONDS="5",
        LOG_LEVEL="INFO",
    )
    if args.email == "smtp":
        env["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp_port}"
        env.pop("EMAIL_BACKEND", None)
    else:
        env["EMAIL_BACKEND"] = "notifications.email_backends.KeyedFileEmailBackend"
        env["EMAIL_FILE_PATH"] = str(folder / "email")
    return env


def start_services(args, processes: Processes, folder: Path) -> tuple[list, str, int | None]:
    tag = f"bench-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = child_env(args, folder, port, tag)
    sink_pid = None
    if args.email == "smtp":
        sink = processes.start(
            "smtp-sink",
            [
                sys.executable,
                "bench/smtp_sink.py",
                "--port",
                str(port),
                "--log",
                str(folder / "smtp-sink.log"),
            ],
            env,
        )
        wait_for_log(sink, "SMTP sink on")
        sink_pid = sink.pid
    celery = [sys.executable, "-m", "celery", "-A", "clinic"]
    queues = f"{env['NOTIFY_DISPATCH_QUEUE']},{env['NOTIFICATIONS_QUEUE']}"
    workers = [
        processes.start(
            f"worker-{n}",
            [
                *celery,
                "worker",
                "--queues",
                queues,
                "--concurrency",
                str(args.concurrency),
                "--pool",
                "prefork",
                "--hostname",
                f"{tag}-{n}@%h",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            env,
        )
        for n in range(args.workers)
    ]
    for worker in workers:
        wait_for_log(worker, " ready.")
    beat = processes.start(
        "beat",
        [*celery, "beat", "--loglevel", "INFO", "--schedule", str(folder / "beat-schedule")],
        env,
    )
    wait_for_log(beat, "beat: Starting")
    return workers, tag, sink_pid


def drop_queues(tag: str) -> None:
    import redis
    from django.conf import settings
    from kombu import Connection

    from clinic.brokers import broker_kind

    names = [f"{tag}-notifications", f"{tag}-dispatch"]
    if broker_kind(settings.CELERY_BROKER_URL) == "amqp":  # CELERY_BROKER_URL=amqp://...
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as connection:
            for name in names:
                connection.default_channel.queue_delete(name)
                connection.default_channel.exchange_delete(name)
        return
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2)
    client.delete(*names, *(f"_kombu.binding.{name}" for name in names))


def broker_name() -> str:
    from django.conf import settings

    from clinic.brokers import broker_kind

    return broker_kind(settings.CELERY_BROKER_URL)


def print_report(args, runs: list[Run], load_at_start: float) -> None:
    print()
    print(
        f"{args.messages:,} reminders due at once, {args.workers} worker(s) x concurrency "
        f"{args.concurrency}, email over {args.email}, broker {broker_name()}, {len(runs)} runs, load average "
        f"{load_at_start:.2f} at the start"
    )
    header = (
        f"{'run':>3} {'first claim s':>13} {'all sent s':>10} {'msg/s':>7} "
        f"{'worker cpu s/1k':>15} {'sink cpu s/1k':>13} {'smtp sessions':>13} {'lost':>4} "
        f"{'dup':>4}"
    )
    print(header)
    print("-" * len(header))
    for n, run in enumerate(runs, 1):
        print(
            f"{n:>3} {run.first_claim:>13.1f} {run.last_sent:>10.1f} {run.rate:>7.0f} "
            f"{run.worker_cpu:>15.2f} {run.sink_cpu:>13.2f} {run.sessions:>13} "
            f"{run.lost:>4} {run.duplicated:>4}"
        )

    def median(attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in runs)

    print(
        f"med {median('first_claim'):>13.1f} {median('last_sent'):>10.1f} "
        f"{median('rate'):>7.0f} {median('worker_cpu'):>15.2f} {median('sink_cpu'):>13.2f} "
        f"{median('sessions'):>13.0f} {sum(r.lost for r in runs):>4} "
        f"{sum(r.duplicated for r in runs):>4}"
    )
    print(machine_line())


def main() -> None:
    args = parse_args()
    load_at_start = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    print(f"Logs of the worker(s), beat and the SMTP sink in {folder}", flush=True)
    with own_database(BENCH_DB, keep=args.keep):
        print(f"Seeding {args.messages:,} appointments ...", flush=True)
        clinic = seed_clinic(args.messages)
        processes = Processes(folder)
        tag = ""
        try:
            workers, tag, sink_pid = start_services(args, processes, folder)
            sink = Sink(args.email, folder, sink_pid)
            runs = []
            for n in range(args.runs):
                print(f"Run {n + 1} of {args.runs} ...", flush=True)
                runs.append(one_run(clinic, sink, workers, args.stall))
                print(f"  all sent {runs[-1].last_sent:.1f} s after they fell due", flush=True)
        finally:
            processes.stop_all()
            if tag:
                drop_queues(tag)
        print_report(args, runs, load_at_start)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
