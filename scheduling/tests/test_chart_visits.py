"""The desk's chart: upcoming and past visits, a Book button to the patient's home location,
and the messages sent (kind, channel, status, time; never the text), in each visit's own
zone. The chart page (patients/, a lower floor) loads this section with htmx."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.users.actor import Actor
from notifications.models import Message, MessageKind
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


@pytest.fixture
def site(db):
    location = LocationFactory(time_zone="America/Denver", name="Denver Spine")
    doctor = ProviderFactory(locations=[location], first_name="Ana", last_name="Reyes")
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=doctor,
            location=location,
            weekday=weekday,
            start_time=time(7),
            end_time=time(17),
        )
    return {
        "location": location,
        "doctor": doctor,
        "room": RoomFactory(location=location),
        "type": AppointmentTypeFactory(),
    }


def book(site, patient, user, start):
    return appointment_book(
        patient=patient,
        appointment_type=site["type"],
        provider=site["doctor"],
        location=site["location"],
        room=site["room"],
        start=start,
        by=Actor.desk(user),
    )


def url(patient):
    return f"/desk/patients/{patient.pk}/visits/"


def test_the_chart_page_has_a_book_button_and_loads_the_visits(client, front_desk_user, site):
    patient = PatientFactory(home_location=site["location"])
    client.sign_in(front_desk_user)
    html = client.get(f"/patients/{patient.pk}/").content.decode()
    book_url = f"/desk/book/?patient={patient.pk}&amp;location={site['location'].pk}"
    assert f'href="{book_url}"' in html
    assert f'hx-get="{url(patient)}"' in html and 'hx-trigger="load"' in html


def test_upcoming_and_past_visits_with_times_in_mt(client, front_desk_user, site):
    patient = PatientFactory(home_location=site["location"], consent_email=True)
    day = datetime.now(DENVER).date() + timedelta(days=3)
    ahead = book(site, patient, front_desk_user, datetime.combine(day, time(9, 30), DENVER))
    cancelled = book(site, patient, front_desk_user, datetime.combine(day, time(14), DENVER))
    appointment_move(
        appointment=cancelled,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Patient asked",
    )
    other = book(site, PatientFactory(), front_desk_user, datetime.combine(day, time(11), DENVER))
    client.sign_in(front_desk_user)
    response = client.get(url(patient), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html  # the fragment htmx swaps in
    upcoming = html[html.index("visits-upcoming") : html.index('id="past-title"')]
    past = html[html.index('id="past-title"') : html.index("chart-messages")]
    assert f'data-visit="{ahead.pk}"' in upcoming and "9:30 AM MT" in upcoming
    assert f'data-visit="{cancelled.pk}"' in past and "Cancelled" in past
    assert f'data-visit="{other.pk}"' not in html
    assert "ET" not in upcoming.replace("data-", "")  # never the server's New York zone
    assert AuditEvent.objects.filter(patients__contains=[patient.pk], action="read").count() == 1
    # Without htmx the same section is a page of its own.
    page = client.get(url(patient)).content.decode()
    assert "<html" in page and f'data-visit="{ahead.pk}"' in page


def test_the_patients_messages_without_their_text(client, front_desk_user, site):
    patient = PatientFactory(home_location=site["location"], consent_email=True)
    day = datetime.now(DENVER).date() + timedelta(days=3)
    book(site, patient, front_desk_user, datetime.combine(day, time(9), DENVER))
    messages = list(Message.objects.filter(patient=patient))
    assert messages, "booking plans at least a confirmation"
    Message.objects.filter(pk=messages[0].pk).update(
        state="sent", sent_at=timezone.now(), body="SECRET BODY TEXT"
    )
    client.sign_in(front_desk_user)
    html = client.get(url(patient), HTTP_HX_REQUEST="true").content.decode()
    section = html[html.index("chart-messages") :]
    for message in messages:
        assert f'data-message="{message.pk}"' in section
    assert MessageKind(messages[0].kind).label in section
    assert "Email" in section and "Sent" in section and " MT" in section
    assert "SECRET BODY TEXT" not in html


def test_patients_and_other_roles_get_no_visits(client, patient_user, site):
    stranger = PatientFactory()
    client.sign_in(patient_user)
    assert client.get(url(stranger)).status_code == 403
    assert not AuditEvent.objects.filter(patients__contains=[stranger.pk]).exists()


@pytest.mark.parametrize("visits", [1, 6])
def test_the_section_runs_a_fixed_number_of_queries(client, front_desk_user, site, visits):
    patient = PatientFactory(home_location=site["location"], consent_email=True)
    day = datetime.now(DENVER).date() + timedelta(days=3)
    for n in range(visits):
        book(site, patient, front_desk_user, datetime.combine(day, time(7 + n), DENVER))
    client.sign_in(front_desk_user)
    queries, response = page_queries(client, url(patient), HTTP_HX_REQUEST="true")
    # session, user, the second factor's device, groups, patient, the access-log insert,
    # upcoming, past, messages
    assert len(queries) == 9
    assert response.content.decode().count("data-visit=") == visits
