"""scripts/setup.sh: where no PostgreSQL or Redis runs, it starts private ones of its own.

The machine's servers are hidden by pointing the setup at closed ports; the servers it
starts live in a throwaway folder on free ports and are stopped at the end.
"""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest
import redis

from tests.support import ROOT, as_postgres_user, child_env, free_port, postgres_binary


def stop_private_servers(data: Path) -> None:
    pgdata = data / "postgres"
    if (pgdata / "postmaster.pid").exists():
        subprocess.run(
            [
                *as_postgres_user(),
                str(postgres_binary("pg_ctl")),
                "-D",
                str(pgdata),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
    pidfile = data / "redis" / "redis.pid"
    if pidfile.exists():
        os.kill(int(pidfile.read_text()), signal.SIGTERM)


@pytest.fixture
def data_dir():
    # Under /tmp and world-traversable: as root, the cluster runs as user postgres.
    path = Path(tempfile.mkdtemp(prefix="clinic-setup-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        stop_private_servers(path)
        shutil.rmtree(path, ignore_errors=True)


def test_setup_starts_a_private_postgres_and_redis_when_none_runs(data_dir):
    nothing_here, pg_port, redis_port = free_port(), free_port(), free_port()
    env = child_env(
        CLINIC_DATA_DIR=str(data_dir),
        PG_DEFAULT_PORT=str(nothing_here),
        REDIS_DEFAULT_PORT=str(nothing_here),
        LOCAL_PG_PORT=str(pg_port),
        LOCAL_REDIS_PORT=str(redis_port),
    )
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    result = subprocess.run(
        ["bash", "-c", 'source scripts/setup.sh && echo "URLS $DATABASE_URL $REDIS_URL"'],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    urls = result.stdout.strip().splitlines()[-1].split()
    assert urls == [
        "URLS",
        f"postgres://postgres@127.0.0.1:{pg_port}/clinic",
        f"redis://127.0.0.1:{redis_port}/0",
    ]
    assert "creating a project-local PostgreSQL cluster" in result.stdout
    with psycopg2.connect(urls[1]) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_setting('port')")
        assert cursor.fetchone() == ("clinic", str(pg_port))
    assert redis.Redis.from_url(urls[2]).ping()


def test_setup_says_in_one_line_when_a_given_database_is_unreachable():
    env = child_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/clinic")
    result = subprocess.run(
        ["bash", "-c", "source scripts/setup.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("setup: cannot reach PostgreSQL at")
