"""Helpers for tests that start real processes: free ports, waiting, stopping cleanly."""

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# Set by the browser tests for this process only; a child process must not inherit it.
TEST_PROCESS_ONLY = {"DJANGO_ALLOW_ASYNC_UNSAFE"}


def child_env(**overrides: str) -> dict:
    """This process's environment for a child process, with `overrides` applied."""
    env = {key: value for key, value in os.environ.items() if key not in TEST_PROCESS_ONLY}
    return env | overrides


# The ports the tests' private servers listen on. Not from the kernel's ephemeral range
# (where bind(0) and every outgoing connection on the machine take theirs): a server stopped
# and started again on its port could find it taken meanwhile by someone's client socket.
# Each pytest-xdist worker picks from a block of its own, so two never pick the same port.
PRIVATE_PORTS_FROM = 20000
PORT_BLOCK = 500


def xdist_worker_number() -> int:
    """0 in a plain pytest run, n + 1 in pytest-xdist's worker gw<n>."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name.removeprefix("gw")) + 1 if name.startswith("gw") else 0


def ephemeral_ports_from() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default range starts there


def bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on, in this worker's block (see above)."""
    low = PRIVATE_PORTS_FROM + PORT_BLOCK * xdist_worker_number()
    if low + PORT_BLOCK > ephemeral_ports_from():  # more workers than blocks: the kernel picks
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    # A random start, so that concurrent runs (and a port in TIME_WAIT) rarely meet.
    offset = random.randrange(PORT_BLOCK)
    for step in range(PORT_BLOCK):
        port = low + (offset + step) % PORT_BLOCK
        if bindable(port):
            return port
    raise AssertionError(f"no free port in {low}-{low + PORT_BLOCK - 1}")


def wait_for(
    check: Callable[[], object],
    timeout: float,
    what: str,
    interval: float = 0.25,
    *,
    process: subprocess.Popen | None = None,
):
    """Call check until it returns something truthy; fail with `what` after `timeout` s, or
    as soon as `process` (the child that should bring it about) has exited."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # the thing waited for is not there yet
            last_error = exc
        if process is not None and process.poll() is not None:
            raise AssertionError(
                f"the process exited with {process.returncode} before {what} "
                f"(last error: {last_error})"
            )
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what} (last error: {last_error})"
    )


def start(args: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    """Start a process in its own session, its output in a log file kept as an artifact."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill(process)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the process group. For a Celery worker or beat at the end of a test: a warm
    shutdown takes a worker some 2.5 s (billiard's pool stops in one-second loops) and proves
    nothing there; its connections close with it."""
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "clinic", *args]


def artifacts(*parts: str) -> Path:
    path = ROOT.joinpath("artifacts", *parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def postgres_binary(name: str) -> Path:
    """A PostgreSQL program (pg_ctl, initdb, pg_dump) of the newest installed version."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise AssertionError("PostgreSQL server binaries are missing: `make test` installs them")
    return found[-1]


def server_url(database: str) -> str:
    """`database` on the test database's PostgreSQL server itself, never through the suite's
    PgBouncer: pg_dump and pg_restore set session options a transaction pooler would not keep."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT host(inet_server_addr()), inet_server_port()")
        host, port = cursor.fetchone()
    user = connection.settings_dict["USER"] or "postgres"
    return f"postgres://{user}@{host}:{port}/{database}"


def dump_test_database(path: Path) -> None:
    """pg_dump the test database (schema, rows, migrations table) to `path`."""
    from django.db import connection

    subprocess.run(
        [
            str(postgres_binary("pg_dump")),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={path}",
            f"--dbname={server_url(connection.settings_dict['NAME'])}",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )


def restore_database(path: Path, url: str) -> None:
    """Load a dump_test_database() file into the empty database at `url`."""
    subprocess.run(
        [
            str(postgres_binary("pg_restore")),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={url}",
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )


def as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root; as root, run its programs as user postgres."""
    return ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port, for tests that stop or break a server
    (the machine's shared one is never touched). `folder` must be reachable by user
    postgres (e.g. a 0755 folder under /tmp)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pgdata = folder / "pgdata"
        self.port = free_port()

    def _run(self, *args: str) -> None:
        subprocess.run([*as_postgres_user(), *args], check=True, capture_output=True, timeout=180)

    def init(self) -> None:
        if os.getuid() == 0:
            shutil.chown(self.folder, user="postgres")
        self._run(
            str(postgres_binary("initdb")),
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(postgres_binary("pg_ctl")),
            "-D",
            str(self.pgdata),
            "-o",
            options,
            "-l",
            str(self.folder / "postgres.log"),
            "-w",
            "-t",
            "120",
            "start",
        )

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._run(
                str(postgres_binary("pg_ctl")),
                "-D",
                str(self.pgdata),
                "-m",
                "fast",
                "-w",
                "-t",
                "120",
                "stop",
            )

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"
