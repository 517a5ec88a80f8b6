"""A misconfigured clinic stops at start-up with one clear line and a non-zero status."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import child_env

ROOT = Path(__file__).resolve().parents[3]


def run_manage(*args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    return run_python("manage.py", *args, **env_overrides)


def run_python(*args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = child_env(DJANGO_SETTINGS_MODULE="clinic.settings.local")
    env.pop("DJANGO_SECRET_KEY", None)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"DJANGO_SETTINGS_MODULE": "clinic.settings.production"},
            "clinic: configuration error: DJANGO_SECRET_KEY is not set",
        ),
        (
            {"DATABASE_URL": "sqlite:///clinic.sqlite3"},
            "clinic: configuration error: DATABASE_URL must point at PostgreSQL",
        ),
        (
            {"DATABASE_URL": "mysql://root@127.0.0.1:3306/test"},
            "clinic: configuration error: DATABASE_URL must point at PostgreSQL",
        ),
        (
            {"CLINIC_DEFAULT_TIME_ZONE": "Mars/Olympus"},
            "clinic: configuration error: CLINIC_DEFAULT_TIME_ZONE='Mars/Olympus'",
        ),
        (
            {"TRUSTED_PROXIES": "10.0.0.0/8,proxy.example.org"},
            "clinic: configuration error: TRUSTED_PROXIES: 'proxy.example.org' is not an IP",
        ),
    ],
)
def test_bad_settings_stop_start_up_in_one_line(env, expected):
    result = run_manage("check", **env)
    assert result.returncode == 2
    assert result.stderr.startswith(expected)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_bad_settings_stop_celery_in_one_line(program):
    result = run_python(
        "-m", "celery", "-A", "clinic", program, DJANGO_SETTINGS_MODULE="clinic.settings.production"
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "clinic: configuration error: DJANGO_SECRET_KEY is not set: "
        "production needs a long random secret (50+ characters)"
    )


def test_an_unreachable_database_stops_migrate_in_one_line():
    result = run_manage(
        "migrate",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/clinic",
        DATABASE_CONNECT_TIMEOUT="2",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("clinic: cannot reach the database (")
    assert lines[0].endswith("check DATABASE_URL")


def test_production_settings_start_with_a_secret_and_hosts():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="clinic.settings.production",
        DJANGO_SECRET_KEY="k" * 20 + "-a-long-random-production-secret-for-the-test-0123456789",
        DJANGO_ALLOWED_HOSTS="clinic.example.org",
    )
    assert result.returncode == 0, result.stderr
