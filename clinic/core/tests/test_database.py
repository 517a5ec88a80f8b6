import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_migrations_install_the_postgres_extensions():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension")
        installed = {row[0] for row in cursor.fetchall()}
    assert {"btree_gist", "pg_trgm"} <= installed


def test_the_database_is_postgresql_and_stores_utc():
    assert connection.vendor == "postgresql"
    assert connection.pg_version >= 150000
    with connection.cursor() as cursor:
        cursor.execute("SHOW TIME ZONE")
        assert cursor.fetchone()[0] == "UTC"
