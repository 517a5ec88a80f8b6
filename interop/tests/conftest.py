"""A demo-like patient with a whole record (allergy, medication, condition, an order and
its performed procedure, scores, an intake and a booked visit), the clinic they are seen
at, and API clients signed in with real knox tokens for each role."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clinic.users.actor import Actor
from clinic.users.models import User
from clinic.users.two_factor import is_staff_account
from conftest import TEST_PASSWORD
from patients.models import (
    Allergy,
    AllergySeverity,
    Condition,
    ConditionKind,
    IntakeStatus,
    IntakeSubmission,
    Medication,
    Patient,
)
from patients.services import assessment_record
from patients.tests.factories import PatientFactory
from procedures.models import ProcedureRecord, Side
from procedures.tests.factories import ProcedureOrderFactory, ProcedureRecordFactory
from scheduling.models import Appointment, AppointmentType
from scheduling.services import appointment_book
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
    works_every_day,
)
from sites.models import Location, Provider, Room
from tests.signin import fresh_recovery_code

PHQ9 = {f"q{n}": n % 3 for n in range(1, 9)} | {"q9": 0}


@dataclass
class Clinic:
    location: Location
    provider: Provider
    other_provider: Provider
    room: Room
    visit_type: AppointmentType

    def start_on(self, days_ahead: int, hour: int = 10) -> datetime:
        """A start availability offers: `hour` local time `days_ahead` days from today."""
        zone = self.location.zone
        day = timezone.now().astimezone(zone).date() + timedelta(days=days_ahead)
        return datetime.combine(day, time(hour), tzinfo=zone)


@dataclass
class Record:
    patient: Patient
    allergy: Allergy
    medication: Medication
    condition: Condition
    procedure: ProcedureRecord
    appointment: Appointment
    intake: IntakeSubmission


@pytest.fixture
def fhir_clinic(db) -> Clinic:
    location = LocationFactory(time_zone="America/Chicago", phone="+19195550100")
    provider = ProviderFactory(locations=[location], npi="1234567893")
    other = ProviderFactory(locations=[location])
    room = RoomFactory(location=location)
    RoomFactory(location=location)
    for doctor in (provider, other):
        works_every_day(doctor, location)
    visit_type = AppointmentTypeFactory(patient_bookable=True, min_notice_hours=0)
    return Clinic(location, provider, other, room, visit_type)


def whole_record(clinic: Clinic, patient: Patient) -> Record:
    """Every kind of chart entry the FHIR API serves, for one patient."""
    by = Actor.system()
    allergy = Allergy.objects.create(
        patient=patient,
        substance="Iodinated contrast",
        reaction="Hives",
        severity=AllergySeverity.MODERATE,
        procedure_class="iodinated_contrast",
    )
    medication = Medication.objects.create(
        patient=patient, name="Apixaban", dose="5 mg", frequency="twice daily"
    )
    condition = Condition.objects.create(
        patient=patient, kind=ConditionKind.DIABETES, description="Type 2 diabetes"
    )
    order = ProcedureOrderFactory(patient=patient, side=Side.LEFT)
    procedure = ProcedureRecordFactory(
        patient=patient,
        order=order,
        performer=clinic.provider,
        location=clinic.location,
        side=Side.LEFT,
        levels=["L4-L5"],
    )
    now = timezone.now()
    assessment_record(
        patient=patient,
        instrument="nrs",
        items={"score": 6},
        by=by,
        body_region="low_back",
        taken_at=now - timedelta(days=3),
    )
    assessment_record(
        patient=patient,
        instrument="peg",
        items={"pain": 6, "enjoyment": 5, "activity": 7},
        by=by,
        taken_at=now - timedelta(days=3),
    )
    assessment_record(
        patient=patient,
        instrument="odi",
        items={f"s{n}": 2 for n in range(1, 11)},
        by=by,
        taken_at=now - timedelta(days=3),
    )
    assessment_record(
        patient=patient, instrument="phq9", items=PHQ9, by=by, taken_at=now - timedelta(days=2)
    )
    intake = IntakeSubmission.objects.create(
        patient=patient,
        status=IntakeStatus.SUBMITTED,
        submitted_at=now - timedelta(days=4),
        answers={
            "chief_complaint": "Low back pain down the left leg",
            "pain_locations": ["low_back", "leg"],
            "red_flags": {"fever": False},
        },
    )
    appointment = appointment_book(
        patient=patient,
        appointment_type=clinic.visit_type,
        provider=clinic.provider,
        location=clinic.location,
        # Each patient's visit an hour after the last one booked, in the same room.
        start=clinic.start_on(3, hour=9 + Appointment.objects.count()),
        room=clinic.room,
        by=by,
    )
    return Record(patient, allergy, medication, condition, procedure, appointment, intake)


@pytest.fixture
def record(fhir_clinic, patient_user) -> Record:
    patient = patient_user.patient
    patient.preferred_name = "Robbie"
    patient.address_line1 = "12 Main St"
    patient.city = "Raleigh"
    patient.state = "NC"
    patient.postal_code = "27601"
    patient.language = "es"
    patient.sex = "female"
    patient.save()
    return whole_record(fhir_clinic, patient)


@pytest.fixture
def someone_else(fhir_clinic) -> Record:
    return whole_record(fhir_clinic, PatientFactory())


def token_for(user: User) -> str:
    data = {"username": user.username, "password": TEST_PASSWORD}
    if is_staff_account(user):
        data["otp"] = fresh_recovery_code(user)
    response = APIClient().post("/api/v1/auth/token/", data, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


@pytest.fixture
def fhir_as() -> Callable[[User], APIClient]:
    """An API client sending a real knox token of `user`, asking for FHIR JSON."""

    def signed_in(user: User) -> APIClient:
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION=f"Token {token_for(user)}", HTTP_ACCEPT="application/fhir+json"
        )
        return client

    return signed_in
