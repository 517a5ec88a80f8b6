"""Which database errors are an outage (503) and which are not (a bug or a lost race)."""

import psycopg2
import pytest
from django.db import OperationalError, connection, transaction
from django.db.utils import DatabaseErrorWrapper

from clinic.core.outage import OutageLog, is_database_outage
from tests.support import free_port


def connection_refused() -> OperationalError:
    try:
        with DatabaseErrorWrapper(connection):
            psycopg2.connect(host="127.0.0.1", port=free_port(), user="postgres", connect_timeout=5)
    except OperationalError as error:
        return error
    raise AssertionError("a closed port accepted a connection")


def test_a_refused_connection_is_an_outage():
    assert is_database_outage(connection_refused())


@pytest.mark.django_db
def test_a_cancelled_statement_is_not_an_outage():
    with (
        pytest.raises(OperationalError) as caught,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL statement_timeout = 1")
        cursor.execute("SELECT pg_sleep(1)")
    assert caught.value.__cause__.pgcode == "57014"
    assert not is_database_outage(caught.value)


def test_other_errors_are_not_outages():
    assert not is_database_outage(ValueError("no"))
    assert not is_database_outage(None)


def test_the_outage_is_logged_when_it_starts_and_when_it_ends_only(caplog):
    log = OutageLog()
    for _ in range(3):
        log.started(connection_refused())
    log.ended()
    log.ended()
    messages = [record.getMessage() for record in caplog.records if record.name == "clinic.outage"]
    assert messages == [
        "database unreachable (OperationalError); answering 503 until it is back",
        "database reachable again",
    ]
