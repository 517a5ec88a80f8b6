"""The desk's waitlist page: filters, adding a patient, offering a free slot by hand (the
same offer and message as the automatic path), removing, the offers in their three states,
staff only, and times in the location's zone (a Denver clinic while the server is in New
York)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.users.actor import Actor
from notifications.models import Message, MessageKind, MessageState
from patients.tests.factories import PatientFactory
from scheduling.models import (
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
    WorkingHours,
)
from scheduling.services import appointment_book, offer_slot_by_hand, waitlist_join
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from scheduling.tests.queries import page_queries

pytestmark = pytest.mark.django_db
DENVER = ZoneInfo("America/Denver")
URL = "/desk/waitlist/"


def next_monday() -> date:
    today = datetime.now(DENVER).date()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture
def denver(db):
    location = LocationFactory(time_zone="America/Denver", name="Denver Spine")
    doctor = ProviderFactory(locations=[location], first_name="Ana", last_name="Reyes")
    other = ProviderFactory(locations=[location], first_name="Ben", last_name="Cole")
    for provider in (doctor, other):
        for weekday in range(7):
            WorkingHours.objects.create(
                provider=provider,
                location=location,
                weekday=weekday,
                start_time=time(8),
                end_time=time(12),
            )
    return {
        "location": location,
        "doctor": doctor,
        "other": other,
        "room": RoomFactory(location=location, name="Consult A"),
        "type": AppointmentTypeFactory(),
        "consult": AppointmentTypeFactory(
            code="new_consult", name="New consult", kind="new_consult"
        ),
    }


def join(site, user, patient=None, **extra):
    day = next_monday()
    fields = {
        "appointment_type": site["type"],
        "earliest": day,
        "latest": day + timedelta(days=2),
    } | extra
    return waitlist_join(patient=patient or PatientFactory(), by=Actor.desk(user), **fields)


def test_patients_and_strangers_never_see_the_waitlist(
    client, patient_user, denver, front_desk_user
):
    entry = join(denver, front_desk_user)
    assert client.get(URL).status_code == 302  # to the login page
    client.sign_in(patient_user)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{entry.pk}/").status_code == 403
    assert client.post(f"{URL}{entry.pk}/remove/").status_code == 403
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


def test_the_list_filters_by_kind_provider_and_location(client, front_desk_user, denver):
    anyone = join(denver, front_desk_user, PatientFactory(legal_last_name="Anyone"))
    with_doctor = join(
        denver,
        front_desk_user,
        PatientFactory(legal_last_name="Withreyes"),
        provider=denver["doctor"],
    )
    with_other = join(
        denver,
        front_desk_user,
        PatientFactory(legal_last_name="Withcole"),
        provider=denver["other"],
    )
    consult = join(
        denver,
        front_desk_user,
        PatientFactory(legal_last_name="Consultonly"),
        appointment_type=denver["consult"],
    )
    client.sign_in(front_desk_user)
    html = client.get(URL).content.decode()
    for entry in (anyone, with_doctor, with_other, consult):
        assert entry.patient.full_name in html

    html = client.get(URL, {"provider": denver["doctor"].pk}).content.decode()
    assert anyone.patient.full_name in html and with_doctor.patient.full_name in html
    assert with_other.patient.full_name not in html

    html = client.get(URL, {"appointment_type": denver["consult"].pk}).content.decode()
    assert consult.patient.full_name in html
    assert anyone.patient.full_name not in html

    elsewhere = LocationFactory(time_zone="America/New_York")
    html = client.get(URL, {"location": elsewhere.pk}).content.decode()
    assert anyone.patient.full_name in html  # no location wanted: any location suits


def test_the_desk_adds_a_patient_found_inline(client, front_desk_user, denver):
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
    client.sign_in(front_desk_user)
    html = client.post(URL, {"q": "quintero"}).content.decode()
    assert f'value="{patient.pk}"' in html and "Rosa Quintero" in html
    day = next_monday()
    form = {
        "q": "quintero",
        "patient": str(patient.pk),
        "appointment_type": str(denver["type"].pk),
        "provider": str(denver["doctor"].pk),
        "location": str(denver["location"].pk),
        "earliest": day.isoformat(),
        "latest": (day + timedelta(days=5)).isoformat(),
    }
    response = client.post(f"{URL}add/", form)
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get(patient=patient)
    assert (entry.provider, entry.location, entry.status) == (
        denver["doctor"],
        denver["location"],
        WaitlistStatus.WAITING,
    )
    assert entry.created_by == front_desk_user

    again = client.post(f"{URL}add/", form)
    assert again.status_code == 409
    assert "already on the waitlist" in again.content.decode()
    assert WaitlistEntry.objects.filter(patient=patient).count() == 1


def test_adding_without_a_patient_or_with_a_backward_window_is_a_400(
    client, front_desk_user, denver
):
    client.sign_in(front_desk_user)
    day = next_monday()
    base = {
        "appointment_type": str(denver["type"].pk),
        "earliest": day.isoformat(),
        "latest": (day - timedelta(days=3)).isoformat(),
    }
    response = client.post(f"{URL}add/", base)
    assert response.status_code == 400
    assert "Choose a patient." in response.content.decode()
    response = client.post(f"{URL}add/", base | {"patient": str(PatientFactory().pk)})
    assert response.status_code == 400
    assert "The last day is before the first." in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def first_slot_form(html: str) -> dict[str, str]:
    """The hidden fields of the first 'Offer' form on the entry page."""
    import re

    block = html[html.index('action="/desk/waitlist/') :]
    block = block[: block.index("</form>")]
    return dict(re.findall(r'name="(provider|location|room|start)" value="([^"]*)"', block))


def test_an_offer_by_hand_is_the_automatic_offer_with_its_message(client, front_desk_user, denver):
    patient = PatientFactory(consent_email=True)
    entry = join(denver, front_desk_user, patient, provider=denver["doctor"])
    client.sign_in(front_desk_user)
    html = client.get(f"{URL}{entry.pk}/").content.decode()
    assert "8:00 AM MT" in html  # Denver's morning, not New York's (settings.TIME_ZONE)
    assert settings.TIME_ZONE == "America/New_York" and "10:00 AM ET" not in html
    assert (
        AuditEvent.objects.filter(patients__contains=[entry.patient.pk], action="read").count() == 1
    )

    form = first_slot_form(html)
    response = client.post(f"{URL}{entry.pk}/offer/", form)
    assert response.status_code == 302
    offer = WaitlistOffer.objects.get(entry=entry)
    assert offer.status == OfferStatus.OPEN
    assert offer.start == datetime.fromisoformat(form["start"])
    assert offer.start.astimezone(DENVER).time() == time(8)
    assert offer.provider == denver["doctor"] and offer.room == denver["room"]
    expected_hold = timedelta(hours=denver["type"].waitlist_offer_hours)
    assert offer.expires_at <= timezone.now() + expected_hold
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.OFFERED
    message = Message.objects.get(subject_id=offer.pk)
    assert message.kind == MessageKind.WAITLIST_OFFER and message.patient == entry.patient
    assert message.state == MessageState.PENDING and message.location == denver["location"]

    # A second offer while one is open is refused; the page says so and makes none.
    again = client.post(f"{URL}{entry.pk}/offer/", form)
    assert again.status_code == 409
    assert WaitlistOffer.objects.filter(entry=entry).count() == 1


def test_a_slot_taken_meanwhile_is_a_409_and_no_offer(client, front_desk_user, denver):
    entry = join(denver, front_desk_user, provider=denver["doctor"])
    client.sign_in(front_desk_user)
    form = first_slot_form(client.get(f"{URL}{entry.pk}/").content.decode())
    appointment_book(
        patient=PatientFactory(),
        appointment_type=denver["type"],
        provider=denver["doctor"],
        location=denver["location"],
        room=denver["room"],
        start=datetime.fromisoformat(form["start"]),
        by=Actor.desk(front_desk_user),
    )
    response = client.post(f"{URL}{entry.pk}/offer/", form)
    assert response.status_code == 409
    assert "no longer free" in response.content.decode()
    assert not WaitlistOffer.objects.exists()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


def test_a_slot_outside_the_entrys_days_or_typed_by_hand_is_a_400(client, front_desk_user, denver):
    entry = join(denver, front_desk_user)
    client.sign_in(front_desk_user)
    form = first_slot_form(client.get(f"{URL}{entry.pk}/").content.decode())
    later = datetime.fromisoformat(form["start"]) + timedelta(days=10)
    response = client.post(f"{URL}{entry.pk}/offer/", form | {"start": later.isoformat()})
    assert response.status_code == 400
    assert "outside the days" in response.content.decode()
    naive = form | {"start": "2030-01-01T09:00"}
    assert client.post(f"{URL}{entry.pk}/offer/", naive).status_code == 400
    assert not WaitlistOffer.objects.exists()


def test_removing_an_entry_closes_its_open_offer_and_message(client, front_desk_user, denver):
    entry = join(denver, front_desk_user, provider=denver["doctor"])
    start = datetime.combine(next_monday(), time(9)).replace(tzinfo=DENVER)
    offer = offer_slot_by_hand(
        entry=entry,
        provider=denver["doctor"],
        location=denver["location"],
        start=start,
        by=Actor.desk(front_desk_user),
    )
    client.sign_in(front_desk_user)
    assert client.post(f"{URL}{entry.pk}/remove/").status_code == 302
    entry.refresh_from_db()
    offer.refresh_from_db()
    assert entry.status == WaitlistStatus.WITHDRAWN
    assert offer.status == OfferStatus.EXPIRED
    assert Message.objects.get(subject_id=offer.pk).state == MessageState.CANCELLED
    assert f'data-entry="{entry.pk}"' not in client.get(URL).content.decode()


def test_offers_show_pending_accepted_and_expired_in_mt(client, front_desk_user, denver):
    states = {}
    for hour, status in (
        (8, OfferStatus.OPEN),
        (9, OfferStatus.ACCEPTED),
        (10, OfferStatus.EXPIRED),
    ):
        entry = join(denver, front_desk_user, PatientFactory(legal_last_name=f"Offer{status}"))
        offer = offer_slot_by_hand(
            entry=entry,
            provider=denver["doctor"],
            location=denver["location"],
            start=datetime.combine(next_monday(), time(hour)).replace(tzinfo=DENVER),
            by=Actor.desk(front_desk_user),
        )
        WaitlistOffer.objects.filter(pk=offer.pk).update(status=status)
        states[status] = offer
    client.sign_in(front_desk_user)
    html = client.get(URL).content.decode()
    sections = {
        key: html[html.index(f'class="table stack offers-{key}"') :].split("</table>")[0]
        for key in ("open", "accepted", "expired")
    }
    assert "8:00 AM MT" in sections["open"] and "Offeropen" in sections["open"]
    assert "9:00 AM MT" in sections["accepted"] and "Offeraccepted" in sections["accepted"]
    assert "10:00 AM MT" in sections["expired"] and "Offerexpired" in sections["expired"]
    assert "Offeropen" not in sections["expired"]


@pytest.mark.parametrize("count", [1, 8])
def test_the_list_runs_a_fixed_number_of_queries(client, front_desk_user, denver, count):
    for n in range(count):
        entry = join(denver, front_desk_user, provider=denver["doctor"] if n % 2 else None)
        if n % 3 == 0:
            offer_slot_by_hand(
                entry=entry,
                provider=denver["doctor"],
                location=denver["location"],
                start=datetime.combine(next_monday(), time(8)).replace(tzinfo=DENVER)
                + timedelta(minutes=30 * n),
                by=Actor.desk(front_desk_user),
            )
    client.sign_in(front_desk_user)
    queries, response = page_queries(client, URL)
    # session, user, the second factor's device, role groups, the offers of each of three
    # states (+ patient, kind, places), the entries (+ patient, kind, places), their offers,
    # the three lists of the filter form and of the add form
    assert len(queries) == 16
    assert response.content.decode().count("data-entry=") == count
