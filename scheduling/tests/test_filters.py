"""The scheduling API's filters: valid ones narrow the list, a value they cannot read is a 400
naming the field, never an empty list."""

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from patients.tests.factories import PatientFactory
from scheduling.filters import LOCAL_DAY_NEEDS_LOCATION
from scheduling.models import Appointment, AppointmentStatus
from scheduling.tests.factories import LocationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

APPOINTMENTS = "/api/v1/appointments/"
CHICAGO = ZoneInfo("America/Chicago")

# No row has this id. Fixed, not random, so every pytest-xdist worker collects the same test ids.
UNKNOWN_ID = "6b1e3c58-2d7a-4f0e-9a51-000000000001"


def assert_refused(response, field: str) -> list[str]:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert (body["code"], body["detail"]) == ("invalid", "Some fields are not valid.")
    assert list(body["fields"]) == [field] and body["fields"][field]
    return body["fields"][field]


def listed_ids(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def visit(clinic: dict, start: datetime, **fields) -> Appointment:
    end = start + timedelta(minutes=20)
    return Appointment.objects.create(
        patient=fields.pop("patient", None) or PatientFactory(),
        appointment_type=clinic["type"],
        provider=fields.pop("provider", clinic["provider"]),
        location=clinic["location"],
        start=start,
        end=end,
        block_start=start,
        block_end=end,
        **fields,
    )


@pytest.fixture
def tomorrow_9am(clock) -> datetime:
    """09:00 tomorrow in the clinic's Chicago, not in the default zone."""
    return clock.day_at(1, time(9), CHICAGO)


def test_providers_narrow_by_location(api_as, patient_user):
    here, elsewhere = LocationFactory(), LocationFactory()
    local = ProviderFactory(locations=[here])
    ProviderFactory(locations=[elsewhere])
    response = api_as(patient_user).get("/api/v1/providers/", {"location": str(here.pk)})
    assert listed_ids(response) == {str(local.pk)}


@pytest.mark.parametrize("value", ["not-a-uuid", UNKNOWN_ID])
def test_an_unknown_provider_location_is_a_400_naming_the_field(api_as, patient_user, value):
    response = api_as(patient_user).get("/api/v1/providers/", {"location": value})
    assert_refused(response, "location")


@pytest.mark.date_sensitive
def test_appointments_narrow_by_each_filter(api_as, front_desk_user, clinic, tomorrow_9am):
    first = visit(clinic, tomorrow_9am)
    second = visit(clinic, tomorrow_9am + timedelta(hours=1), provider=clinic["other_provider"])
    cancelled = visit(clinic, tomorrow_9am + timedelta(hours=2), status=AppointmentStatus.CANCELLED)
    client = api_as(front_desk_user)
    everyone = {str(first.pk), str(second.pk), str(cancelled.pk)}
    assert listed_ids(client.get(APPOINTMENTS, {"location": str(clinic["location"].pk)})) == (
        everyone
    )
    by_provider = {"provider": str(clinic["other_provider"].pk)}
    assert listed_ids(client.get(APPOINTMENTS, by_provider)) == {str(second.pk)}
    by_patient = {"patient": str(first.patient_id)}
    assert listed_ids(client.get(APPOINTMENTS, by_patient)) == {str(first.pk)}
    by_status = {"status": "cancelled"}
    assert listed_ids(client.get(APPOINTMENTS, by_status)) == {str(cancelled.pk)}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "bogus"),
        ("patient", "not-a-uuid"),
        ("patient", UNKNOWN_ID),
        ("provider", UNKNOWN_ID),
        ("location", UNKNOWN_ID),
    ],
)
def test_an_unknown_appointment_filter_value_is_a_400_naming_the_field(
    api_as, front_desk_user, clinic, tomorrow_9am, field, value
):
    visit(clinic, tomorrow_9am)
    assert_refused(api_as(front_desk_user).get(APPOINTMENTS, {field: value}), field)


def test_a_day_needs_its_location_and_a_bad_location_is_named_not_the_day(
    api_as, front_desk_user, clinic, tomorrow_9am
):
    visit(clinic, tomorrow_9am)
    client = api_as(front_desk_user)
    day = str(tomorrow_9am.date())
    without_location = client.get(APPOINTMENTS, {"date": day})
    assert assert_refused(without_location, "date") == [LOCAL_DAY_NEEDS_LOCATION]
    unknown_location = client.get(APPOINTMENTS, {"date": day, "location": str(uuid.uuid4())})
    assert_refused(unknown_location, "location")
    not_a_day = client.get(
        APPOINTMENTS, {"date": "tomorrow", "location": str(clinic["location"].pk)}
    )
    assert_refused(not_a_day, "date")


def test_a_patient_naming_someone_else_is_refused_like_an_unknown_id(
    api_as, patient_user, other_patient
):
    client = api_as(patient_user)
    someone_else = client.get(APPOINTMENTS, {"patient": str(other_patient.pk)})
    nobody = client.get(APPOINTMENTS, {"patient": str(uuid.uuid4())})
    assert_refused(someone_else, "patient")
    assert someone_else.json() == nobody.json()
