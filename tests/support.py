"""Helpers for tests that start real processes: free ports, waiting, stopping cleanly."""

import os
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], object], timeout: float, what: str, interval: float = 0.25):
    """Call check until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # the thing waited for is not there yet
            last_error = exc
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
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "clinic", *args]


def artifacts(*parts: str) -> Path:
    path = ROOT.joinpath("artifacts", *parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def postgres_binary(name: str) -> Path:
    """A PostgreSQL server program (pg_ctl, initdb) of the newest installed version."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise AssertionError("PostgreSQL server binaries are missing: `make test` installs them")
    return found[-1]


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
