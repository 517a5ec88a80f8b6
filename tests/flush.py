"""Emptying the test database after a transactional test, in milliseconds instead of seconds.

Django's flush, which pytest-django runs after every transactional test, truncates every table:
some 3 to 4 s on this machine, most of it PostgreSQL making new files for every table and index
and dropping the old ones at commit. A test leaves rows in a few tables only. Deleting the rows
of just those, with the tables' ordinary triggers off (session_replication_role = replica: no
foreign-key checks and no audit or append-only triggers, as TRUNCATE fires none), leaves the
same empty tables. That needs a superuser (the suite's `postgres`); for any other user, and for
a flush that is more than a plain TRUNCATE of tables (RESTART IDENTITY, CASCADE), Django's own
runs. The root conftest.py installs it in the pytest process only."""

import re
from collections.abc import Callable, Sequence

from django.db import transaction
from django.db.backends.postgresql.operations import DatabaseOperations

TRUNCATE = re.compile(r'TRUNCATE (?P<tables>"[^;]*");')
QUOTED_NAME = re.compile(r'"((?:[^"]|"")+)"')
ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")  # the flush command's SQL may carry colour codes

SqlFlush = Callable[[DatabaseOperations, Sequence[str]], None]


def truncated_tables(sql_list: Sequence[str]) -> list[str] | None:
    """The tables of a flush that is one plain TRUNCATE statement, else None."""
    if len(sql_list) != 1:
        return None
    found = TRUNCATE.fullmatch(ANSI_STYLE.sub("", sql_list[0]).strip())
    if found is None:  # RESTART IDENTITY or CASCADE follow the names
        return None
    return [name.replace('""', '"') for name in QUOTED_NAME.findall(found["tables"])]


def tables_with_rows(cursor, tables: Sequence[str], quote: Callable[[str], str]) -> list[str]:
    """Those of `tables` (Django's names of its models' tables, quoted) that have a row."""
    checks = [f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)})" for table in tables]  # noqa: S608
    cursor.execute(" UNION ALL ".join(checks), list(tables))
    return [row[0] for row in cursor.fetchall()]


def is_superuser(operations: DatabaseOperations) -> bool:
    with operations.connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def delete_rows_instead(truncate: SqlFlush) -> SqlFlush:
    """DatabaseOperations.execute_sql_flush, deleting the rows of the tables that have any."""

    def execute_sql_flush(self: DatabaseOperations, sql_list: Sequence[str]) -> None:
        tables = truncated_tables(sql_list)
        if not tables or not is_superuser(self):
            truncate(self, sql_list)
            return
        with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            for table in tables_with_rows(cursor, tables, self.quote_name):
                cursor.execute(f"DELETE FROM {self.quote_name(table)}")  # noqa: S608 (as above)
            left = tables_with_rows(cursor, tables, self.quote_name)
            assert not left, f"rows left after the flush in {left}"

    execute_sql_flush.original = truncate  # type: ignore[attr-defined]
    return execute_sql_flush


def install() -> None:
    if not hasattr(DatabaseOperations.execute_sql_flush, "original"):
        DatabaseOperations.execute_sql_flush = delete_rows_instead(  # type: ignore[method-assign]
            DatabaseOperations.execute_sql_flush
        )
