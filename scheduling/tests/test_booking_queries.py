"""A booking through the API costs a fixed number of statements, whatever the clinic's size:
the token with its user's role, the rows the request names (one statement), whether the
provider works at the location, whether availability offers that one start (one statement),
the lock, the row, the messages' policy, its messages (one insert) and the audit row."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from notifications.models import Message
from patients.tests.factories import PatientFactory
from scheduling.models import Appointment
from scheduling.tests.factories import ProviderFactory, RoomFactory, works_every_day

pytestmark = pytest.mark.django_db

BOOKING_QUERIES = 9
# Inside a test's transaction pghistory puts its context before the statement it describes
# (outside one it rides on it); the booking's transaction is a savepoint here, where in
# production it is BEGIN and COMMIT, which are not statements the driver executes.
PGHISTORY_CONTEXT = re.compile(r"^SELECT set_config\('pghistory\.[^;]*; ")
TRANSACTION = re.compile(r"^(SAVEPOINT|RELEASE SAVEPOINT) ")


def statements_of(queries: CaptureQueriesContext) -> list[str]:
    sql = [PGHISTORY_CONTEXT.sub("", query["sql"]) for query in queries.captured_queries]
    return [q for q in sql if not TRANSACTION.match(q) and not q.startswith("SELECT set_config")]


def book(client: APIClient, clinic: dict, patient, hour: int):
    day = datetime.now(clinic["location"].zone).date() + timedelta(days=7)
    return client.post(
        "/api/v1/appointments/",
        {
            "patient": str(patient.pk),
            "appointment_type": clinic["type"].code,
            "provider": str(clinic["provider"].pk),
            "location": str(clinic["location"].pk),
            "room": str(clinic["room"].pk),
            "start": datetime.combine(day, time(hour)).isoformat(),
        },
        format="json",
    )


@pytest.mark.parametrize("others", [0, 12])
def test_a_booking_request_costs_the_same_statements_at_any_size(clinic, front_desk_user, others):
    for _ in range(others):  # more providers, rooms and visits the booking must not read
        provider = ProviderFactory(locations=[clinic["location"]])
        works_every_day(provider, clinic["location"])
        RoomFactory(location=clinic["location"])
    client = APIClient()
    _, token = AuthToken.objects.create(front_desk_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert book(client, clinic, PatientFactory(), 9).status_code == 201  # warm caches

    patient = PatientFactory()
    with CaptureQueriesContext(connection) as queries:
        answer = book(client, clinic, patient, 10)

    assert answer.status_code == 201, answer.json()
    statements = statements_of(queries)
    assert len(statements) == BOOKING_QUERIES, "\n".join(sql[:120] for sql in statements)
    assert Appointment.objects.count() == 2
    # The confirmation and both reminders (72 and 24 hours before), in one insert.
    planned = Message.objects.filter(subject_id=answer.json()["id"])
    assert planned.count() == 3
    assert sum(sql.startswith('INSERT INTO "notifications_message"') for sql in statements) == 1
