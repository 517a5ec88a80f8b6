"""Every write of a visit is kept by database triggers (django-pghistory), filed under who
acted, in what role and through which channel: an overbook, a move and a cancellation can
be read back from the audit whatever code path wrote them."""

import pytest

from clinic.users.actor import Actor
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services import appointment_move
from scheduling.tests.test_desk_booking import at, book, desk_site, next_weekday

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(db):
    return desk_site()


def events_of(appointment: Appointment) -> list:
    return list(appointment.events.select_related("pgh_context").order_by("pgh_id"))


def test_an_overbook_is_in_the_audit_with_who_why_and_the_channel(site, front_desk_user):
    day = next_weekday()
    book(site, Actor.desk(front_desk_user), at(day, 9))
    squeezed = book(
        site, Actor.desk(front_desk_user), at(day, 9, 10), room=1, overbook_reason="Wound check"
    )
    (created,) = events_of(squeezed)
    assert created.pgh_label == "insert"
    assert (created.overbooked, created.overbook_reason) == (True, "Wound check")
    assert created.pgh_context.metadata == {
        "user": str(front_desk_user.pk),
        "role": "front_desk",
        "channel": "desk",
    }


def test_a_cancellation_is_a_second_event_under_its_own_actor(site, front_desk_user, manager_user):
    visit = book(site, Actor.desk(front_desk_user), at(next_weekday(), 10))
    appointment_move(
        appointment=visit, to=AppointmentStatus.CANCELLED, by=Actor.api(manager_user), reason="Ill"
    )
    created, cancelled = events_of(visit)
    assert (created.status, cancelled.status) == ("booked", "cancelled")
    assert cancelled.cancel_reason == "Ill"
    assert cancelled.pgh_context.metadata["channel"] == "api"
    assert cancelled.pgh_context.metadata["user"] == str(manager_user.pk)


@pytest.mark.django_db(transaction=True)  # the context lives for its transaction only
def test_a_write_outside_the_services_is_still_recorded(site, front_desk_user):
    visit = book(site, Actor.desk(front_desk_user), at(next_weekday(), 11))
    Appointment.objects.filter(pk=visit.pk).update(cancel_reason="typed in a shell")
    latest = events_of(visit)[-1]
    assert latest.cancel_reason == "typed in a shell"
    assert latest.pgh_context is None  # no actor: it shows as written outside the services
