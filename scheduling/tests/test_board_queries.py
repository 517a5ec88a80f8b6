"""The front desk's day board (the calendar page with its first day's window) runs the same
queries for one visit as for 150."""

from datetime import datetime, time, timedelta

import pytest

from patients.tests.factories import PatientFactory
from scheduling.models import Appointment, AppointmentStatus
from scheduling.tests.test_calendar_window import make_site
from scheduling.tests.test_views import DENVER, next_weekday, window_visits

pytestmark = pytest.mark.django_db

PROVIDERS = 12
VISIT = timedelta(minutes=20)
STATUSES = [
    AppointmentStatus.CANCELLED,  # released: its logged moves are read for the undo button
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.BOOKED,
]


def a_busy_day(site, day, count: int) -> None:
    """`count` 20-minute visits from 7:00 round-robin over the providers, in every state."""
    patients = PatientFactory.create_batch(min(count, 40))
    rows = []
    for index in range(count):
        start = datetime.combine(day, time(7), tzinfo=DENVER) + VISIT * (index // PROVIDERS)
        status = STATUSES[index % len(STATUSES)]
        arrived = (
            start if status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED) else None
        )
        rows.append(
            Appointment(
                patient=patients[index % len(patients)],
                appointment_type=site["type"],
                provider=site["doctors"][index % PROVIDERS],
                location=site["location"],
                start=start,
                end=start + VISIT,
                block_start=start,
                block_end=start + VISIT,
                status=status,
                cancel_reason="Called" if status == AppointmentStatus.CANCELLED else "",
                checked_in_at=arrived,
                completed_at=start + VISIT if status == AppointmentStatus.COMPLETED else None,
            )
        )
    Appointment.objects.bulk_create(rows)


@pytest.mark.parametrize("visits", [1, 150])
def test_the_board_takes_a_fixed_number_of_queries(
    client, front_desk_user, django_assert_num_queries, visits
):
    site = make_site(providers=PROVIDERS, rooms=0)
    day = next_weekday(2)
    a_busy_day(site, day, visits)
    client.sign_in(front_desk_user)
    # session, user, the second factor's device, groups (role); locations; providers (the
    # week's picker); the day's window (scheduling.calendar_selectors: 10 with a released
    # visit); the audit row naming the patients shown
    with django_assert_num_queries(17):
        response = client.get("/desk/", {"location": str(site["location"].pk), "date": str(day)})
    assert response.status_code == 200
    assert len(window_visits(response)) == visits
