"""A real primary and a streaming replica on spare ports (decision 0033): the schema and
migrations loaded on the primary reach the replica; availability and the physician's history
read the replica; a desk user who just booked reads the primary, so sees the booking while
replay is paused and another desk user still sees the slot free (tests/replica_scenario.py)
until replay resumes.

The primary gets the suite's own test database (migrated by pytest-django) by pg_dump, then
`migrate` confirms it is current: running the migrations afresh costs a minute of CPU."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests.support import (
    PrivatePostgres,
    as_postgres_user,
    child_env,
    postgres_binary,
    wait_for,
)


def scalar(url: str, sql: str) -> object:
    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]
    finally:
        connection.close()


def clone_as_replica(primary: PrivatePostgres, folder: Path) -> PrivatePostgres:
    """pg_basebackup -R: a copy of the primary that streams its WAL from there on."""
    replica = PrivatePostgres(folder)
    if os.getuid() == 0:
        shutil.chown(folder, user="postgres")
    subprocess.run(
        [
            *as_postgres_user(),
            str(postgres_binary("pg_basebackup")),
            f"--dbname=host=127.0.0.1 port={primary.port} user=postgres",
            f"--pgdata={replica.pgdata}",
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return replica


@pytest.fixture
def migrated_database_sql(transactional_db) -> str:
    """The suite's test database as SQL from pg_dump (straight from the server, never through
    a pooler): its schema, and the reference data a transactional test starts with."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT host(inet_server_addr()), inet_server_port(), current_database()")
        host, port, name = cursor.fetchone()
    user = connection.settings_dict["USER"] or "postgres"
    dump = subprocess.run(
        [
            str(postgres_binary("pg_dump")),
            f"--dbname=host={host} port={port} user={user} dbname={name}",
            "--no-owner",
            "--no-privileges",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return dump.stdout


@pytest.fixture
def primary_and_replica() -> Iterator[tuple[PrivatePostgres, PrivatePostgres]]:
    folders = [Path(tempfile.mkdtemp(prefix=f"clinic-{r}-", dir="/tmp")) for r in ("pri", "rep")]
    clusters: list[PrivatePostgres] = []
    try:
        for folder in folders:
            folder.chmod(0o755)
        primary = PrivatePostgres(folders[0])
        clusters.append(primary)
        primary.init()  # initdb's pg_hba.conf lets 127.0.0.1 replicate (trust)
        primary.start()
        replica = clone_as_replica(primary, folders[1])
        clusters.append(replica)
        replica.start()
        yield primary, replica
    finally:
        for cluster in reversed(clusters):
            cluster.stop()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def test_reads_go_to_the_replica_and_a_writer_reads_its_own_writes(
    primary_and_replica, migrated_database_sql
):
    primary, replica = primary_and_replica
    assert scalar(replica.url(), "SELECT pg_is_in_recovery()") is True
    wait_for(
        lambda: scalar(primary.url(), "SELECT state FROM pg_stat_replication") == "streaming",
        timeout=60,
        what="the replica to stream from the primary",
    )

    admin = psycopg2.connect(primary.url())
    admin.autocommit = True  # CREATE DATABASE runs outside a transaction
    admin.cursor().execute("CREATE DATABASE clinic")
    admin.close()
    env = child_env(
        DATABASE_URL=primary.url("clinic"),
        DATABASE_REPLICA_URL=replica.url("clinic"),
        DATABASE_POOLER="",
        DJANGO_SETTINGS_MODULE="clinic.settings.test",
        CACHE_KEY_PREFIX="clinic-replica-test",
    )
    subprocess.run(
        [str(postgres_binary("psql")), "-q", "-v", "ON_ERROR_STOP=1", primary.url("clinic")],
        input=migrated_database_sql,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stdout.decode()[-2000:]  # nothing left to apply
    applied = scalar(primary.url("clinic"), "SELECT count(*) FROM django_migrations")
    wait_for(
        lambda: scalar(replica.url("clinic"), "SELECT count(*) FROM django_migrations") == applied,
        timeout=60,
        what="the migrations to reach the replica",
    )

    run = subprocess.run(
        [sys.executable, "-m", "tests.replica_scenario"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])

    assert seen["primary_in_recovery"] is False and seen["replica_in_recovery"] is True
    # Before anyone wrote, availability reads the appointments on the replica alone.
    assert seen["before"]["offers_slot"]
    assert seen["before"]["appointments_on_replica"] > 0
    assert seen["before"]["appointments_on_primary"] == 0, seen["before"]["primary_sql"]
    assert seen["booking_status"] == 201 and seen["booking_set_cookie"]
    # Replay paused: the booker reads the primary and sees the slot taken ...
    assert not seen["paused_booker"]["offers_slot"]
    assert seen["paused_booker"]["appointments_on_primary"] > 0
    assert seen["paused_booker"]["replica_queries"] == 0
    # ... another desk user reads the replica, which has not replayed the booking yet.
    assert seen["paused_watcher"]["offers_slot"]
    assert seen["paused_watcher"]["appointments_on_replica"] > 0
    assert seen["paused_watcher"]["appointments_on_primary"] == 0
    # Replay resumed: the replica has it too.
    assert not seen["resumed_watcher"]["offers_slot"]
    assert seen["resumed_watcher"]["appointments_on_replica"] > 0
    # Past READ_YOUR_WRITES_SECONDS the booker is back on the replica.
    assert not seen["booker_later"]["offers_slot"]
    assert seen["booker_later"]["appointments_on_replica"] > 0
    assert seen["booker_later"]["appointments_on_primary"] == 0
    # The physician's history reads the replica too.
    assert seen["history"]["replica_queries"] > 0
