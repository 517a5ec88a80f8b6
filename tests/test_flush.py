"""The suite's flush after a transactional test (tests/flush.py): it leaves every table empty,
append-only and history tables included, and leaves any flush but a plain TRUNCATE to
Django."""

import uuid

import pytest
from django.core.management import call_command
from django.db import connection

from clinic.audit.models import AuditAction, AuditEvent
from conftest import restore_reference_data
from patients.tests.factories import PatientFactory
from tests.flush import tables_with_rows, truncated_tables


def test_only_a_plain_truncate_is_done_by_deleting_rows():
    assert truncated_tables(['TRUNCATE "a", "b""c";']) == ["a", 'b"c']
    assert truncated_tables(['\x1b[1mTRUNCATE\x1b[0m "a";']) == ["a"]
    assert truncated_tables(['TRUNCATE "a" RESTART IDENTITY;']) is None
    assert truncated_tables(['TRUNCATE "a" CASCADE;']) is None
    assert truncated_tables(['TRUNCATE "a";', "SELECT 1;"]) is None


def rows_anywhere() -> list[str]:
    tables = connection.introspection.django_table_names(only_existing=True)
    with connection.cursor() as cursor:
        return tables_with_rows(cursor, tables, connection.ops.quote_name)


@pytest.mark.django_db(transaction=True)
def test_the_flush_leaves_every_table_empty_append_only_ones_included(patient_user):
    PatientFactory()
    AuditEvent.objects.create(
        request_id=uuid.uuid4(),
        channel="desk",
        action=AuditAction.READ,
        method="GET",
        route="patients:detail",
        path="/patients/",
        status=200,
        patients=[patient_user.patient.pk],
    )
    before = rows_anywhere()
    assert AuditEvent._meta.db_table in before, "a table whose triggers refuse DELETE"
    assert "patients_patient" in before and "procedures_proceduretype" in before

    call_command(
        "flush", verbosity=0, interactive=False, reset_sequences=False, inhibit_post_migrate=True
    )
    assert rows_anywhere() == []


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in rows_anywhere():
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.django_db(transaction=True)
def test_after_a_flush_the_reference_data_comes_back_whole():
    """What a transactional test starts with (the migrations' rows: catalog, rules, payers
    and their rules, vocabulary, roles) is all there again after the flush between tests."""
    before = row_counts()
    assert {"procedures_proceduretype", "procedures_payerrule", "patients_payer"} <= set(before)

    call_command("flush", verbosity=0, interactive=False, reset_sequences=False)
    restore_reference_data()
    assert row_counts() == before
