"""The suite's database work goes through PgBouncer in transaction pooling mode
(scripts/pgbouncer.sh, started by `make test`), as production's does (decision 0033)."""

import os

import psycopg2
import pytest
from django.db import connection

from clinic.users.models import User

pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_POOLER") != "pgbouncer",
    reason="the suite runs without PgBouncer (make test starts one; TEST_PGBOUNCER=0 did not)",
)


def admin_console(command: str) -> list[dict]:
    """Rows of a PgBouncer admin command (SHOW POOLS, SHOW CONFIG)."""
    settings = connection.settings_dict
    console = psycopg2.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname="pgbouncer"
    )
    console.autocommit = True  # the admin console takes no transactions
    try:
        with console.cursor() as cursor:
            cursor.execute(command)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        console.close()


def test_the_suite_reaches_postgresql_through_pgbouncer(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT inet_server_port(), current_database()")
        server_port, database = cursor.fetchone()
    assert int(connection.settings_dict["PORT"]) == int(os.environ["PGBOUNCER_PORT"])
    assert server_port != int(connection.settings_dict["PORT"])

    pools = [row for row in admin_console("SHOW POOLS") if row["database"] == database]
    assert pools, "PgBouncer has no pool for the test database"
    assert {row["pool_mode"] for row in pools} == {"transaction"}
    # This test's transaction holds a server connection of that pool.
    assert sum(row["sv_active"] for row in pools) >= 1


@pytest.mark.django_db(transaction=True)
def test_querysets_read_in_chunks_without_server_side_cursors():
    """A server-side cursor outlives its transaction, and the pool may hand the next fetch
    to another server connection: Django is told to fetch chunks client-side instead."""
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
    User.objects.bulk_create(User(username=f"chunked-{n}") for n in range(5))
    names = [user.username for user in User.objects.order_by("username").iterator(chunk_size=2)]
    assert names == [f"chunked-{n}" for n in range(5)]
