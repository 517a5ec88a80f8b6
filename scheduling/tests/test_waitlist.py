from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.core.errors import Conflict
from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory
from scheduling.models import AppointmentStatus, OfferStatus, WaitlistStatus
from scheduling.services import (
    appointment_book,
    appointment_move,
    offer_accept,
    offers_expire,
    waitlist_join,
)
from scheduling.tests.test_booking import book, next_monday_at

pytestmark = pytest.mark.django_db


def join(clinic, patient, by, **extra):
    day = next_monday_at(9).date()
    return waitlist_join(
        patient=patient,
        appointment_type=clinic["type"],
        earliest=day - timedelta(days=1),
        latest=day + timedelta(days=1),
        by=Actor.desk(by),
        **extra,
    )


def test_a_cancellation_offers_the_slot_to_the_first_waiting_patient(clinic, front_desk_user):
    taken = book(clinic, front_desk_user)
    first, second = PatientFactory(), PatientFactory()
    first_entry = join(clinic, first, front_desk_user)
    join(clinic, second, front_desk_user)
    appointment_move(
        appointment=taken,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Ill",
    )
    first_entry.refresh_from_db()
    assert first_entry.status == WaitlistStatus.OFFERED
    offer = first_entry.offers.get()
    assert offer.start == taken.start and offer.status == OfferStatus.OPEN
    assert offer.expires_at <= timezone.now() + timedelta(hours=clinic["type"].waitlist_offer_hours)

    appointment = offer_accept(offer=offer, by=Actor.desk(front_desk_user))
    assert appointment.patient == first and appointment.start == taken.start
    first_entry.refresh_from_db()
    assert first_entry.status == WaitlistStatus.BOOKED


def test_an_expired_offer_goes_to_the_next_patient(clinic, front_desk_user):
    taken = book(clinic, front_desk_user)
    first_entry = join(clinic, PatientFactory(), front_desk_user)
    second_entry = join(clinic, PatientFactory(), front_desk_user)
    appointment_move(
        appointment=taken,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Ill",
    )
    offer = first_entry.offers.get()
    assert offers_expire(now=offer.expires_at + timedelta(seconds=1)) == 1
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    with pytest.raises(Conflict):
        offer_accept(offer=offer, by=Actor.desk(front_desk_user))
    first_entry.refresh_from_db()
    assert first_entry.status == WaitlistStatus.WAITING
    assert second_entry.offers.get().status == OfferStatus.OPEN


def test_an_offer_for_a_slot_someone_took_meanwhile_is_a_409(clinic, front_desk_user):
    taken = book(clinic, front_desk_user)
    entry = join(clinic, PatientFactory(), front_desk_user)
    appointment_move(
        appointment=taken,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Ill",
    )
    appointment_book(
        patient=PatientFactory(),
        appointment_type=clinic["type"],
        provider=clinic["provider"],
        location=clinic["location"],
        room=clinic["room"],
        start=taken.start,
        by=Actor.desk(front_desk_user),
    )
    with pytest.raises(Conflict) as caught:
        offer_accept(offer=entry.offers.get(), by=Actor.desk(front_desk_user))
    assert caught.value.code == "slot_taken"


def test_only_matching_entries_get_offers(clinic, front_desk_user):
    taken = book(clinic, front_desk_user)
    other_doctor = join(
        clinic, PatientFactory(), front_desk_user, provider=clinic["other_provider"]
    )
    appointment_move(
        appointment=taken,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Ill",
    )
    other_doctor.refresh_from_db()
    assert other_doctor.status == WaitlistStatus.WAITING and not other_doctor.offers.exists()


def test_a_patient_joins_and_accepts_through_the_api(
    api_as, patient_user, own_patient, clinic, front_desk_user
):
    clinic["type"].patient_bookable = True
    clinic["type"].save()
    day = next_monday_at(9).date()
    client = api_as(patient_user)
    joined = client.post(
        "/api/v1/waitlist/",
        {
            "appointment_type": clinic["type"].code,
            "earliest": str(day),
            "latest": str(day),
            "patient": str(PatientFactory().id),
        },
    )
    assert joined.status_code == 201 and joined.json()["patient"] == str(own_patient.id)
    taken = book(clinic, front_desk_user)
    appointment_move(
        appointment=taken,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="Ill",
    )
    offers = client.get("/api/v1/waitlist/").json()["results"][0]["offers"]
    accepted = client.post(f"/api/v1/waitlist-offers/{offers[0]['id']}/accept/")
    assert accepted.status_code == 201
    someone = join(clinic, PatientFactory(), front_desk_user)
    assert client.post(f"/api/v1/waitlist-offers/{someone.id}/accept/").status_code == 404


def test_beat_expires_offers_every_few_minutes(clinic, front_desk_user):
    from clinic.celery import app
    from scheduling.tasks import expire_waitlist_offers

    entry = {e["task"]: e for e in app.conf.beat_schedule.values()}[
        "scheduling.tasks.expire_waitlist_offers"
    ]
    assert entry["schedule"] <= 300
    assert expire_waitlist_offers() == 0  # the task body, nothing due
