"""What the benchmarks through the deployed web server share: a clinic to book in (providers,
rooms, hours, patients with email), gunicorn on a free port with the production settings
(DEBUG off), a staff API token got the way a client gets one (password and the authenticator
app's code), and a pool of HTTP clients that fire requests and keep each answer's status
and latency."""

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from benchkit import BASE_DIR, percentile

ZONE_NAME = "America/Chicago"
VISIT_MINUTES = 15
OPENS, CLOSES = 8, 17
SLOTS_A_DAY = (CLOSES - OPENS) * 60 // VISIT_MINUTES
PATIENTS_PER_PROVIDER = 40
DESK_PASSWORD = secrets.token_urlsafe(16)


# --- The clinic -------------------------------------------------------------------------------


@dataclass
class BookingClinic:
    """One location, providers with a consult room each, working every day 08:00-17:00, a
    15-minute follow-up, and patients who take email (so each booking queues its
    confirmation, as in production). A patient is only ever booked with one provider."""

    location_id: str
    provider_ids: list[str]
    room_ids: list[str]
    patient_ids: list[str]
    kind_code: str
    desk_username: str
    first_day: date

    def booking(self, provider: int, day: int, slot: int) -> dict:
        """The POST body of one booking: the provider's `slot`-th start on day `day`."""
        when = datetime.combine(self.first_day + timedelta(days=day), clock(OPENS)) + timedelta(
            minutes=VISIT_MINUTES * slot
        )
        count = len(self.provider_ids)
        patient = provider + count * (slot % PATIENTS_PER_PROVIDER)
        return {
            "patient": self.patient_ids[patient],
            "appointment_type": self.kind_code,
            "provider": self.provider_ids[provider],
            "location": self.location_id,
            "room": self.room_ids[provider],
            "start": when.isoformat(),  # no offset: read in the location's zone
        }


def exit_on_sigterm() -> None:
    """A benchmark stopped with SIGTERM still stops its servers and drops its database."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def seed_clinic(*, providers: int, shared_room: bool = False) -> BookingClinic:
    """The clinic; `shared_room`: every provider books the one room (a storm's contention)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clinic.users.roles import Role
    from clinic.users.services import user_upsert
    from patients.models import Patient
    from scheduling.models import AppointmentType, WorkingHours
    from sites.models import Location, Provider, Room

    location = Location.objects.create(code="bench", name="Bench Clinic", time_zone=ZONE_NAME)
    doctors, rooms = [], []
    for n in range(providers):
        doctor = Provider.objects.create(first_name=f"Doc{n}", last_name=f"Bench{n:02d}")
        doctor.locations.add(location)
        doctors.append(doctor)
        if not shared_room or not rooms:
            rooms.append(Room.objects.create(location=location, name=f"Exam {n}", kind="consult"))
    room_of = [rooms[0 if shared_room else n] for n in range(providers)]
    WorkingHours.objects.bulk_create(
        WorkingHours(
            provider=doctor,
            location=location,
            weekday=weekday,
            start_time=clock(OPENS),
            end_time=clock(CLOSES),
        )
        for doctor in doctors
        for weekday in range(7)
    )
    kind = AppointmentType.objects.create(
        code="follow_up",
        name="Follow-up",
        kind="follow_up",
        duration_minutes=VISIT_MINUTES,
        room_kind="consult",
        slot_step_minutes=VISIT_MINUTES,
        patient_bookable=True,
        min_notice_hours=0,
        max_horizon_days=365,
    )
    patients = Patient.objects.bulk_create(
        Patient(
            mrn=f"B{n:07d}",
            legal_first_name=f"Pat{n}",
            legal_last_name="Bench",
            date_of_birth=date(1950, 1, 1) + timedelta(days=n),
            email=f"pat{n}@example.org",
            consent_email=True,
        )
        for n in range(providers * PATIENTS_PER_PROVIDER)
    )
    desk = user_upsert(username="bench-desk", password=DESK_PASSWORD, role=Role.FRONT_DESK)
    TOTPDevice.objects.create(user=desk, name="Authenticator app", confirmed=True)
    return BookingClinic(
        location_id=str(location.pk),
        provider_ids=[str(d.pk) for d in doctors],
        room_ids=[str(r.pk) for r in room_of],
        patient_ids=[str(p.pk) for p in patients],
        kind_code=kind.code,
        desk_username=desk.username,
        first_day=datetime.now(location.zone).date() + timedelta(days=1),
    )


def totp_code(username: str) -> str:
    """The code the user's authenticator app shows now (django-otp's own TOTP)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


# --- gunicorn -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    port: int
    log: Path
    process: subprocess.Popen

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The production settings (DEBUG off, checks on) with a throwaway secret; the bench
    client says it came through the TLS proxy (X-Forwarded-Proto), as real clients do."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return env | {
        "DJANGO_SETTINGS_MODULE": "clinic.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@contextlib.contextmanager
def gunicorn(
    database_url: str,
    *,
    workers: int,
    worker_class: str = "",
    threads: int = 0,
    name: str = "gunicorn",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """gunicorn (gunicorn.conf.py, its defaults unless given here) on a free port, until it
    answers; SIGTERM to its process group at the end."""
    port = free_port()
    env = server_env(database_url, GUNICORN_BIND=f"127.0.0.1:{port}")
    env["GUNICORN_WORKERS"] = str(workers)
    if worker_class:
        env["GUNICORN_WORKER_CLASS"] = worker_class
    if threads:
        env["GUNICORN_THREADS"] = str(threads)
    env |= extra_env or {}
    log = BASE_DIR / "artifacts" / "logs" / f"bench-{name}-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "clinic.wsgi"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(port, log, process)
    try:
        wait_until_up(server)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def wait_until_up(server: Server, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            sys.exit(f"gunicorn stopped; see {server.log}")
        try:
            status, _ = request(server.address, "GET", "/healthz")
            if status in (200, 503):
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer within {timeout} s; see {server.log}")


# --- HTTP ------------------------------------------------------------------------------------

PROXY_HEADERS = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}


def request(
    address: tuple[str, int],
    method: str,
    path: str,
    body: dict | None = None,
    headers: dict[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes]:
    """One request (on `connection` when given, reconnecting as needed): status and body."""
    conn = connection or http.client.HTTPConnection(*address, timeout=60)
    sent = PROXY_HEADERS | (headers or {})
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        sent |= {"Content-Type": "application/json"}
    try:
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        return response.status, response.read()
    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
        conn.close()  # a kept-alive connection the server closed: once more, afresh
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if connection is None:
            conn.close()


def staff_token(address: tuple[str, int], username: str, password: str) -> str:
    """POST /api/v1/auth/token/ with the password and the authenticator app's code."""
    body = {"username": username, "password": password, "otp": totp_code(username)}
    status, answer = request(address, "POST", "/api/v1/auth/token/", body)
    if status != 200:
        sys.exit(f"no token: {status} {answer[:300]!r}")
    return json.loads(answer)["token"]


@dataclass
class Outcome:
    status: int
    ms: float
    body: bytes


@dataclass
class Firing:
    """What a pool of clients got: every answer's status and latency, and the wall time."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    errors: Counter = field(default_factory=Counter)

    def statuses(self) -> Counter:
        return Counter(o.status for o in self.outcomes)

    def latency(self, fraction: float) -> float:
        return percentile([o.ms for o in self.outcomes], fraction) if self.outcomes else 0.0

    def per_second(self, status: int) -> float:
        return self.statuses()[status] / self.seconds if self.seconds else 0.0


def fire(
    addresses: list[tuple[str, int]],
    requests: Iterable[tuple[str, str, dict | None]],
    *,
    clients: int,
    headers: dict[str, str],
) -> Firing:
    """Send (method, path, body) requests from `clients` threads, each with its own kept-alive
    connection to one of `addresses` (round-robin), taking the next request when answered."""
    pending = iter(list(requests))
    lock = threading.Lock()
    firing = Firing()
    barrier = threading.Barrier(clients + 1)

    def take() -> tuple[str, str, dict | None] | None:
        with lock:
            return next(pending, None)

    def client(number: int) -> None:
        address = addresses[number % len(addresses)]
        conn = http.client.HTTPConnection(*address, timeout=120)
        barrier.wait()
        try:
            while (item := take()) is not None:
                method, path, body = item
                started = time.perf_counter()
                try:
                    status, answer = request(address, method, path, body, headers, connection=conn)
                except OSError as error:
                    with lock:
                        firing.errors[type(error).__name__] += 1
                    conn.close()
                    continue
                ms = (time.perf_counter() - started) * 1000
                with lock:
                    firing.outcomes.append(Outcome(status, ms, answer))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    firing.seconds = time.perf_counter() - started
    return firing


def run_rows(header: str, rows: list[str]) -> None:
    print(header)
    print("-" * len(header))
    for row in rows:
        print(row)


def token_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


# --- CPU time: what a request costs whatever else the machine runs ---------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, all its threads (fields 14 and 15 of /proc/<pid>/stat);
    None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _processes() -> Iterator[tuple[int, Path]]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            yield int(entry.name), entry


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers)."""
    found = []
    for child, entry in _processes():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(child)
    return found


def backend_pids(database: str) -> list[int]:
    """The PostgreSQL server processes connected to `database` (their title names it:
    "postgres: 15/main: <user> <database> <client> <state>")."""
    found = []
    for pid, entry in _processes():
        try:
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            found.append(pid)
    return found


class CpuClock:
    """CPU seconds spent by the web server (master and workers), the PostgreSQL backends of
    `database` and this process (the clients), from `start()` to `stop()`. Sampled every
    half second, so a backend that closes meanwhile (CONN_MAX_AGE) keeps what it spent up
    to its last sample, and one that opens counts from its start."""

    def __init__(self, server_pid: int, database: str) -> None:
        self.server_pid, self.database = server_pid, database
        self.baseline: dict[str, dict[int, float]] = {"web": {}, "db": {}}
        self.latest: dict[str, dict[int, float]] = {"web": {}, "db": {}}
        self.spent: dict[str, float] = {}
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample_until_done, daemon=True)

    def _sample(self, first: bool = False) -> None:
        parts = {
            "web": [self.server_pid, *children_of(self.server_pid)],
            "db": backend_pids(self.database),
        }
        for part, pids in parts.items():
            for pid in pids:
                seconds = process_cpu_seconds(pid)
                if seconds is None:
                    continue
                self.baseline[part].setdefault(pid, seconds if first else 0.0)
                self.latest[part][pid] = seconds

    def _sample_until_done(self) -> None:
        while not self._done.wait(0.5):
            self._sample()

    def start(self) -> None:
        self._sample(first=True)
        self.client_before = time.process_time()
        self._sampler.start()

    def stop(self) -> None:
        self._done.set()
        self._sampler.join()
        self._sample()
        self.spent = {
            part: sum(
                latest - self.baseline[part][pid] for pid, latest in self.latest[part].items()
            )
            for part in self.latest
        }
        self.spent["client"] = time.process_time() - self.client_before
