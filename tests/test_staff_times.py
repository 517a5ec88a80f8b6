"""Staff pages show times in the location's zone with its short name (MT, ET), not the
server's: a Denver clinic while settings.TIME_ZONE is New York. A page that spans locations
shows each row in its own location's zone."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from clinic.users.actor import Actor
from notifications.models import Channel, Message, MessageKind, MessageState, SubjectType
from patients import services as patient_services
from patients.tests.factories import PatientFactory
from patients.tests.test_pages import answers
from procedures.tests.factories import ProcedureRecordFactory
from scheduling.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(db):
    assert settings.TIME_ZONE == "America/New_York"
    return {
        "denver": LocationFactory(time_zone="America/Denver", name="Denver Spine"),
        "raleigh": LocationFactory(time_zone="America/New_York", name="Raleigh Pain"),
    }


def failed_message(patient, location, due_at):
    return Message.objects.create(
        patient=patient,
        location=location,
        channel=Channel.EMAIL,
        kind=MessageKind.APPOINTMENT_REMINDER,
        subject_type=SubjectType.APPOINTMENT,
        subject_id=uuid.uuid4(),
        due_at=due_at,
        send_after=due_at,
        state=MessageState.FAILED,
        last_error="Mailbox full",
    )


def test_failed_messages_show_each_row_in_its_locations_zone(client, front_desk_user, sites):
    due = datetime(2026, 12, 15, 16, 30, tzinfo=UTC)  # 9:30 MT, 11:30 ET
    failed_message(PatientFactory(), sites["denver"], due)
    failed_message(PatientFactory(), sites["raleigh"], due + timedelta(minutes=5))
    client.sign_in(front_desk_user)
    html = client.get("/messages/failed/").content.decode()
    assert "2026-12-15 09:30 MT" in html
    assert "2026-12-15 11:35 ET" in html
    assert "11:30 ET" not in html  # the Denver row is not shown in New York time


def test_the_intake_queue_in_the_patients_home_zone(client, front_desk_user, sites):
    patient = PatientFactory(home_location=sites["denver"])
    intake = patient_services.intake_submit(
        patient=patient,
        by=Actor.desk(front_desk_user),
        answers=answers(),
        demographics={"city": "Golden"},
    )
    client.sign_in(front_desk_user)
    html = client.get("/patients/intakes/").content.decode()
    submitted = intake.submitted_at.astimezone(sites["denver"].zone)
    assert f"Submitted {submitted:%Y-%m-%d %H:%M} MT" in html


def test_a_procedure_record_in_its_locations_zone(client, clinician_user, sites):
    record = ProcedureRecordFactory(
        location=sites["denver"], performed_at=datetime(2026, 7, 14, 15, 30, tzinfo=UTC)
    )
    client.sign_in(clinician_user)
    html = client.get(f"/procedures/records/{record.pk}/").content.decode()
    assert "2026-07-14 09:30 MT" in html
    assert "MDT" not in html and "11:30" not in html
