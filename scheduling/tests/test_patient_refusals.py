"""What a patient hears when a booking or a change is refused: a lost race is a 409
`slot_taken` with the free times nearest to it (as staff get), and the refusals read in the
patient's language."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory
from scheduling.services import appointment_book, appointment_move
from scheduling.services.booking import patient_change_refusal
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    works_every_day,
)
from sites.models import Room, RoomKind

pytestmark = pytest.mark.django_db
DENVER = ZoneInfo("America/Denver")


@pytest.fixture
def clinic(db):
    location = LocationFactory(time_zone="America/Denver", phone="+13035550100")
    provider = ProviderFactory(locations=[location])
    works_every_day(provider, location, time(8), time(12))
    room = Room.objects.create(location=location, name="Consult 1", kind=RoomKind.CONSULT)
    kind = AppointmentTypeFactory(patient_bookable=True, min_notice_hours=0)
    day = timezone.now().astimezone(DENVER).date() + timedelta(days=5)
    return {
        "location": location,
        "provider": provider,
        "type": kind,
        "room": room,
        "start": datetime.combine(day, time(9), tzinfo=DENVER),
    }


def book(clinic, patient, by):
    return appointment_book(
        patient=patient,
        appointment_type=clinic["type"],
        provider=clinic["provider"],
        location=clinic["location"],
        room=clinic["room"],
        start=clinic["start"],
        by=by,
    )


def test_a_patient_who_lost_the_race_gets_a_409_with_the_nearest_free_times(
    clinic, front_desk_user, patient_user
):
    book(clinic, PatientFactory(), Actor.desk(front_desk_user))
    with pytest.raises(Conflict) as refused:
        book(clinic, patient_user.patient, Actor.portal(patient_user))
    assert refused.value.code == "slot_taken"
    alternatives = refused.value.extra["alternatives"]
    assert alternatives, "the nearest free times come with the refusal"
    assert all(slot["start"] != clinic["start"].isoformat() for slot in alternatives)


def test_a_time_never_offered_is_still_a_400_on_start(clinic, patient_user):
    clinic["start"] = clinic["start"].replace(hour=15)  # after the provider's hours
    with pytest.raises(ValidationFailed) as refused:
        book(clinic, patient_user.patient, Actor.portal(patient_user))
    assert "start" in refused.value.fields


def test_refusals_read_in_the_patients_language(clinic, front_desk_user, patient_user):
    visit = book(clinic, patient_user.patient, Actor.desk(front_desk_user))
    visit.start = timezone.now() + timedelta(hours=3)
    with translation.override("es"):
        refusal = patient_change_refusal(visit)
        assert refusal is not None and "Faltan menos de" in refusal and "(303) 555-0100" in refusal
        with pytest.raises(Conflict) as cancelled_twice:
            appointment_move(
                appointment=book_and_cancel(clinic, front_desk_user),
                to="cancelled",
                by=Actor.portal(patient_user),
                reason="x",
            )
    assert "no se puede cambiar" in cancelled_twice.value.detail
    with translation.override("en"):
        assert "It is less than" in (patient_change_refusal(visit) or "")


def book_and_cancel(clinic, front_desk_user):
    clinic["start"] = clinic["start"] + timedelta(hours=1)
    other = book(clinic, PatientFactory(), Actor.desk(front_desk_user))
    return appointment_move(
        appointment=other, to="cancelled", by=Actor.desk(front_desk_user), reason="Ill"
    )
