"""Helpers for tests that start real processes: free ports, waiting, stopping cleanly."""

import os
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
