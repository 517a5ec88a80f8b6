"""A booking through the API costs a fixed number of statements, whatever the clinic's size:
the token, the role, the five things named, the availability read of the asked day and
its neighbours, the lock, the row, its confirmation and the audit row."""

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from patients.tests.factories import PatientFactory
from scheduling.models import Appointment
from scheduling.tests.factories import ProviderFactory, RoomFactory, works_every_day

pytestmark = pytest.mark.django_db

# Token (2), role, patient, type, provider, location, room, provider at location, the
# availability read (7), the lock, the row, the messages' policy and its confirmation (4),
# the audit row.
BOOKING_QUERIES = 24
# Inside a test's transaction pghistory sets its context in statements of its own; outside
# one (as in production) it rides on the statement it describes.
PGHISTORY_CONTEXT = "SELECT set_config('pghistory."


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

    with CaptureQueriesContext(connection) as queries:
        answer = book(client, clinic, PatientFactory(), 10)

    assert answer.status_code == 201, answer.json()
    statements = [q["sql"] for q in queries if not q["sql"].startswith(PGHISTORY_CONTEXT)]
    assert len(statements) <= BOOKING_QUERIES, "\n".join(sql[:120] for sql in statements)
    assert Appointment.objects.count() == 2
