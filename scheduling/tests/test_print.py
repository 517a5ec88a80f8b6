"""The printed day: one section (one page) per provider or per room with visits, each
visit in time order and in the location's zone, and nothing to click: no buttons, forms,
navigation or inputs."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory
from scheduling.models import AppointmentStatus, WorkingHours
from scheduling.services import appointment_book, appointment_move
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from scheduling.tests.queries import page_queries

pytestmark = pytest.mark.django_db
DENVER = ZoneInfo("America/Denver")
URL = "/desk/print/"


def print_day_fixture(user) -> dict:
    """A Denver day: Dr. Reyes has three visits (booked out of order), Dr. Cole one and a
    cancelled one, Dr. Idle none; two rooms."""
    location = LocationFactory(time_zone="America/Denver", name="Denver Spine")
    reyes = ProviderFactory(locations=[location], first_name="Ana", last_name="Reyes")
    cole = ProviderFactory(locations=[location], first_name="Ben", last_name="Cole")
    ProviderFactory(locations=[location], first_name="Ida", last_name="Idle")
    rooms = [RoomFactory(location=location, name=name) for name in ("Consult A", "Consult B")]
    for provider in location.providers.all():
        for weekday in range(7):
            WorkingHours.objects.create(
                provider=provider,
                location=location,
                weekday=weekday,
                start_time=time(7),
                end_time=time(17),
            )
    kind = AppointmentTypeFactory()
    day = datetime.now(DENVER).date() + timedelta(days=2)
    made = {}
    for name, provider, room, hour in (
        ("Late Reyes", reyes, rooms[0], 15),
        ("Early Reyes", reyes, rooms[0], 8),
        ("Noon Reyes", reyes, rooms[1], 12),
        ("Morning Cole", cole, rooms[1], 9),
        ("Gone Cole", cole, rooms[1], 10),
    ):
        first, last = name.split()
        made[name] = appointment_book(
            patient=PatientFactory(legal_first_name=first, legal_last_name=last),
            appointment_type=kind,
            provider=provider,
            location=location,
            room=room,
            start=datetime.combine(day, time(hour), DENVER),
            by=Actor.desk(user),
        )
    appointment_move(
        appointment=made["Gone Cole"],
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(user),
        reason="Ill",
    )
    return {"location": location, "day": day, "made": made, "providers_with_visits": 2}


def sections(html: str) -> list[str]:
    return html.split('<section class="print-section"')[1:]


def test_one_section_per_provider_with_visits_in_time_order(client, front_desk_user):
    site = print_day_fixture(front_desk_user)
    client.sign_in(front_desk_user)
    response = client.get(URL, {"location": site["location"].pk, "date": site["day"]})
    assert response.status_code == 200
    html = response.content.decode()
    parts = sections(html)
    assert len(parts) == site["providers_with_visits"]  # Dr. Idle has no page
    reyes = next(p for p in parts if "Dr. Ana Reyes" in p)
    assert reyes.index("Early Reyes") < reyes.index("Noon Reyes") < reyes.index("Late Reyes")
    assert "8:00 AM MT" in reyes and "3:00 PM MT" in reyes
    cole = next(p for p in parts if "Dr. Ben Cole" in p)
    assert "Morning Cole" in cole and "Gone Cole" not in html  # cancelled: not on paper
    assert "Idle" not in html


def test_nothing_to_click_on_the_printed_page(client, front_desk_user):
    site = print_day_fixture(front_desk_user)
    client.sign_in(front_desk_user)
    html = client.get(URL, {"location": site["location"].pk, "date": site["day"]}).content.decode()
    for tag in ("<button", "<form", "<input", "<select", "<nav", "<textarea"):
        assert tag not in html
    assert re.search(r'media="print"[^>]*>|print\.css', html)


def test_one_section_per_room(client, front_desk_user):
    site = print_day_fixture(front_desk_user)
    client.sign_in(front_desk_user)
    query = {"location": site["location"].pk, "date": site["day"], "by": "room"}
    parts = sections(client.get(URL, query).content.decode())
    assert len(parts) == 2
    room_a = next(p for p in parts if ">Consult A<" in p)
    room_b = next(p for p in parts if ">Consult B<" in p)
    assert room_a.index("Early Reyes") < room_a.index("Late Reyes")
    assert room_b.index("Morning Cole") < room_b.index("Noon Reyes")
    assert "Dr. Ben Cole" in room_b  # the room's page names each visit's provider


def test_a_day_without_visits_prints_one_page_saying_so(client, front_desk_user):
    location = LocationFactory(time_zone="America/Denver")
    client.sign_in(front_desk_user)
    html = client.get(URL, {"location": location.pk, "date": "2030-01-07"}).content.decode()
    assert len(sections(html)) == 1 and "No visits this day." in html


def test_bad_input_is_a_404_and_patients_may_not_print(client, front_desk_user, patient_user):
    location = LocationFactory(time_zone="America/Denver")
    client.sign_in(front_desk_user)
    assert client.get(URL, {"location": location.pk, "date": "someday"}).status_code == 404
    assert client.get(URL, {"location": "not-an-id"}).status_code == 404
    client.sign_in(patient_user)
    assert client.get(URL, {"location": location.pk}).status_code == 403


@pytest.mark.parametrize("extra", [0, 6])
def test_a_fixed_number_of_queries(client, front_desk_user, extra):
    site = print_day_fixture(front_desk_user)
    cole = site["made"]["Morning Cole"]
    for n in range(extra):
        appointment_book(
            patient=PatientFactory(),
            appointment_type=cole.appointment_type,
            provider=cole.provider,
            location=cole.location,
            room=cole.room,
            start=datetime.combine(site["day"], time(13), DENVER) + timedelta(minutes=30 * n),
            by=Actor.desk(front_desk_user),
        )
    client.sign_in(front_desk_user)
    # session, user, the second factor's device, groups, the location, the day's visits with
    # everything they show
    query = {"location": site["location"].pk, "date": site["day"]}
    queries, response = page_queries(client, URL, query)
    assert len(queries) == 7
    assert response.content.decode().count("data-visit=") == 4 + extra
