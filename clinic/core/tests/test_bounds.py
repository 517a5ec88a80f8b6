"""Issue 15, point 7: dates outside sane bounds, windows past their cap and overlong text are
a 400 naming the field, never a 500; the schema and docs are for signed-in staff only."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from patients.models import Allergy, Assessment, LabResult, Patient
from scheduling.models import Appointment
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
    works_every_day,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(db):
    location = LocationFactory(time_zone="America/Chicago")
    provider = ProviderFactory(locations=[location])
    RoomFactory(location=location)
    works_every_day(provider, location)
    return {
        "location": location,
        "provider": provider,
        "type": AppointmentTypeFactory(patient_bookable=True),
    }


def fields_of(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["fields"]


# --- Availability -----------------------------------------------------------------------------


def test_availability_from_year_one_to_9999_is_a_400(api_as, patient_user, front_desk_user, site):
    for user in (patient_user, front_desk_user):
        response = api_as(user).get(
            "/api/v1/availability/",
            {"appointment_type": site["type"].code, "start": "0001-01-01", "end": "9999-12-31"},
        )
        fields = fields_of(response)
        assert set(fields) & {"start", "end"}


def test_availability_in_year_9999_alone_is_a_400(api_as, front_desk_user, site):
    response = api_as(front_desk_user).get(
        "/api/v1/availability/",
        {"appointment_type": site["type"].code, "start": "9999-12-30", "end": "9999-12-31"},
    )
    assert "start" in fields_of(response)


def test_availability_in_year_one_alone_is_a_400(api_as, front_desk_user, site):
    response = api_as(front_desk_user).get(
        "/api/v1/availability/",
        {"appointment_type": site["type"].code, "start": "0001-01-01", "end": "0001-01-02"},
    )
    assert "start" in fields_of(response)


@pytest.mark.parametrize(
    ("who", "cap"),
    [
        ("patient_user", "AVAILABILITY_MAX_DAYS_PATIENT"),
        ("front_desk_user", "AVAILABILITY_MAX_DAYS_STAFF"),
    ],
)
def test_availability_window_is_capped_per_role(request, api_as, site, who, cap):
    days = getattr(settings, cap)
    client = api_as(request.getfixturevalue(who))
    start = timezone.localdate() + timedelta(days=1)
    url = "/api/v1/availability/"
    code = site["type"].code
    within = client.get(
        url,
        {"appointment_type": code, "start": start, "end": start + timedelta(days=days - 1)},
    )
    assert within.status_code == 200
    beyond = client.get(
        url, {"appointment_type": code, "start": start, "end": start + timedelta(days=days)}
    )
    assert fields_of(beyond)["end"] == [f"Ask for at most {days} days at once."]


def test_staff_see_slots_across_their_wider_window(api_as, front_desk_user, site):
    start = timezone.localdate() + timedelta(days=1)
    end = start + timedelta(days=settings.AVAILABILITY_MAX_DAYS_STAFF - 1)
    response = api_as(front_desk_user).get(
        "/api/v1/availability/",
        {
            "appointment_type": site["type"].code,
            "start": start,
            "end": end,
            "location": site["location"].pk,
        },
    )
    assert response.status_code == 200
    last = max(slot["start"] for slot in response.json())
    assert last[:10] > str(start + timedelta(days=31))


# --- Bookings ---------------------------------------------------------------------------------


def booking(site, patient, start: str) -> dict:
    return {
        "patient": str(patient.pk),
        "appointment_type": site["type"].code,
        "provider": site["provider"].pk,
        "location": site["location"].pk,
        "start": start,
    }


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59"])
def test_booking_in_year_9999_is_a_400_on_start(
    api_as, front_desk_user, other_patient, site, start
):
    response = api_as(front_desk_user).post(
        "/api/v1/appointments/", booking(site, other_patient, start)
    )
    assert "start" in fields_of(response)
    assert not Appointment.objects.exists()


def test_patient_booking_in_year_9999_is_a_400_on_start(api_as, patient_user, site):
    response = api_as(patient_user).post(
        "/api/v1/appointments/", booking(site, patient_user.patient, "9999-12-31T23:59:59Z")
    )
    assert "start" in fields_of(response)
    assert not Appointment.objects.exists()


def test_booking_past_the_horizon_is_a_400_naming_it(api_as, front_desk_user, other_patient, site):
    beyond = timezone.now() + timedelta(days=settings.BOOKING_HORIZON_DAYS + 2)
    response = api_as(front_desk_user).post(
        "/api/v1/appointments/",
        booking(
            site,
            other_patient,
            beyond.replace(hour=15, minute=0, second=0, microsecond=0).isoformat(),
        )
        | {"overbook_reason": "far ahead"},
    )
    errors = fields_of(response)["start"]
    assert any(f"{settings.BOOKING_HORIZON_DAYS} days" in error for error in errors)
    assert not Appointment.objects.exists()


# --- Birth and clinical dates -----------------------------------------------------------------


def test_birth_date_before_1900_is_a_400(api_as, front_desk_user):
    response = api_as(front_desk_user).post(
        "/api/v1/patients/",
        {"legal_first_name": "Ana", "legal_last_name": "Silva", "date_of_birth": "0001-01-01"},
    )
    assert "date_of_birth" in fields_of(response)
    assert not Patient.objects.exists()


def test_birth_date_update_before_1900_is_a_400(api_as, front_desk_user, other_patient):
    response = api_as(front_desk_user).patch(
        f"/api/v1/patients/{other_patient.pk}/", {"date_of_birth": "1899-12-31"}
    )
    assert "date_of_birth" in fields_of(response)
    other_patient.refresh_from_db()
    assert other_patient.date_of_birth.year >= 1900


@pytest.mark.parametrize(
    ("field", "value"), [("start_date", "0001-01-01"), ("end_date", "9999-12-31")]
)
def test_clinical_entry_dates_out_of_bounds_are_a_400(
    api_as, clinician_user, other_patient, field, value
):
    response = api_as(clinician_user).post(
        f"/api/v1/patients/{other_patient.pk}/allergies/",
        {"substance": "Latex", "reaction": "rash", field: value},
    )
    assert field in fields_of(response)
    assert not Allergy.objects.exists()


def test_lab_date_before_1900_is_a_400(api_as, clinician_user, other_patient):
    response = api_as(clinician_user).post(
        f"/api/v1/patients/{other_patient.pk}/labs/",
        {"kind": "inr", "value": "1.1", "taken_on": "0001-01-01"},
    )
    assert "taken_on" in fields_of(response)
    assert not LabResult.objects.exists()


def test_assessment_in_year_one_is_a_400(api_as, clinician_user, other_patient):
    response = api_as(clinician_user).post(
        f"/api/v1/patients/{other_patient.pk}/assessments/",
        {
            "instrument": "nrs",
            "body_region": "low_back",
            "items": {"score": 5},
            "taken_at": "0001-01-01T00:00:00Z",
        },
    )
    assert "taken_at" in fields_of(response)
    assert not Assessment.objects.exists()


def test_birth_date_1900_is_accepted(api_as, front_desk_user):
    response = api_as(front_desk_user).post(
        "/api/v1/patients/",
        {
            "legal_first_name": "Ana",
            "legal_last_name": "Old",
            "date_of_birth": str(date(1900, 1, 1)),
        },
    )
    assert response.status_code == 201, response.content


# --- Free text --------------------------------------------------------------------------------


def test_overlong_notes_are_a_400(api_as, clinician_user, other_patient):
    response = api_as(clinician_user).post(
        f"/api/v1/patients/{other_patient.pk}/allergies/",
        {"substance": "Latex", "reaction": "rash", "notes": "x" * 2001},
    )
    assert "notes" in fields_of(response)
    assert not Allergy.objects.exists()


# --- Schema and docs --------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_schema_and_docs_are_for_signed_in_staff(client, url, patient_user, front_desk_user):
    assert client.get(url).status_code in (401, 403)
    client.sign_in(patient_user)
    assert client.get(url).status_code == 403
    client.sign_in(front_desk_user)
    assert client.get(url).status_code == 200


def test_the_booking_horizon_defaults_to_two_years(monkeypatch):
    import importlib

    from clinic.settings import base

    monkeypatch.delenv("BOOKING_HORIZON_DAYS", raising=False)
    assert importlib.reload(base).BOOKING_HORIZON_DAYS == 730
    assert base.AVAILABILITY_MAX_DAYS_PATIENT == 31
    assert base.AVAILABILITY_MAX_DAYS_STAFF == 62


# --- Pages that take a date -------------------------------------------------------------------

DESK_PAGES = [
    "/desk/?date={day}",
    "/desk/?date={day}&view=week",
    "/desk/?date={day}&view=month",
    "/desk/print/?date={day}&location={location}",
    "/desk/calendar/events/?start={day}&end={day}",
    "/desk/book/?start={day}T10:00",
    "/desk/book/?day={day}&location={location}",
]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_pages_given_an_absurd_date_answer_without_a_500(
    client, front_desk_user, patient_user, site, day
):
    client.raise_request_exception = False
    client.sign_in(front_desk_user)
    answers = {
        url: client.get(url.format(day=day, location=site["location"].pk)).status_code
        for url in DESK_PAGES
    }
    client.sign_in(patient_user)
    times = f"/portal/book/times/?day={day}&what=type:{site['type'].pk}"
    answers[times] = client.get(f"{times}&location={site['location'].pk}").status_code
    assert all(code < 500 for code in answers.values()), answers
    assert answers[DESK_PAGES[5]] == 400  # the booking page names the day it refuses
