"""What the messages say: who, when, where, the clinic's phone and a link; never a
procedure, diagnosis or medication name in a text message or an email subject."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.users.actor import Actor
from notifications.kinds import load_subject, render
from notifications.models import INTERFACE_KINDS, Message, MessageKind, NotificationPolicy
from patients.models import Condition, DrugClass, Medication, Patient
from procedures.models import Guidance, ProcedureType
from procedures.services import record_create
from scheduling.models import AppointmentStatus
from scheduling.services import appointment_book, appointment_move

from .conftest import days_ahead_at, procedure_booking, sms_patient

pytestmark = pytest.mark.django_db

MEDICATION = "Apixaban"
DIAGNOSIS = "Lumbar radiculopathy"  # the order's indication (conftest.procedure_booking)


@pytest.fixture
def patient():
    # Fixed legal names: a random short one ("Ed", "Al") is found inside ordinary subject words.
    patient = sms_patient(
        preferred_name="Robin", legal_first_name="Roberta", legal_last_name="Quillfeather"
    )
    Medication.objects.create(patient=patient, name=MEDICATION, drug_class=DrugClass.DOAC)
    Condition.objects.create(patient=patient, kind="diabetes", description="Type 2 diabetes")
    return patient


@pytest.fixture
def every_kind(site, patient, clinician_user, front_desk_user):
    """One of each kind of message, planned through the real services."""
    location, provider = site["location"], site["provider"]
    procedure_booking(site, patient, clinician_user, start=days_ahead_at(10, 9))
    mbb = ProcedureType.objects.get(code="mbb_ls")
    refill = ProcedureType.objects.get(code="itp_refill")
    visit = appointment_book(
        patient=patient,
        appointment_type=site["type"],
        provider=provider,
        location=location,
        room=site["room"],
        start=days_ahead_at(12, 9),
        by=Actor.desk(front_desk_user),
    )
    appointment_move(
        appointment=visit,
        to=AppointmentStatus.CANCELLED,
        by=Actor.desk(front_desk_user),
        reason="x",
    )
    performed = timezone.now() - timedelta(minutes=30)
    common = {
        "patient": patient,
        "by": Actor.desk(clinician_user),
        "performer": provider,
        "location": location,
        "performed_at": performed,
        "pre_nrs": 7,
        "post_nrs": 2,
    }
    record_create(
        procedure_type=mbb, guidance=Guidance.FLUOROSCOPY, side="left", levels=["L4-L5"], **common
    )
    record_create(
        procedure_type=refill,
        guidance=Guidance.LANDMARK,
        next_refill_due=(performed + timedelta(days=30)).date(),
        **common,
    )
    scs = ProcedureType.objects.get(code="scs_implant")
    record_create(procedure_type=scs, guidance=Guidance.FLUOROSCOPY, **common)
    return list(Message.objects.select_related("patient", "location"))


def forbidden_words(patient) -> list[str]:
    names = list(ProcedureType.objects.values_list("name", flat=True))
    words = [MEDICATION, DIAGNOSIS, "diabetes", "epidural", "steroid", "injection", "block"]
    words += ["pump", "stimulator", "ablation", "radiofrequency", "M54"]
    return [w.lower() for w in words] + [n.lower() for n in names]


def test_every_kind_is_planned_by_the_fixture(every_kind):
    kinds = {m.kind for m in every_kind} - {MessageKind.WAITLIST_OFFER}
    to_patients = set(MessageKind.values) - {MessageKind.WAITLIST_OFFER} - INTERFACE_KINDS
    assert kinds == to_patients


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_no_procedure_diagnosis_or_medication_in_a_text_or_an_email_subject(
    every_kind, patient, channel
):
    policy = NotificationPolicy.current()
    banned = [w for w in forbidden_words(patient) if w != "pump"]
    for message in every_kind:
        message.channel = channel
        subject_line, body = render(message, load_subject(message), policy)
        exposed = body if channel == "sms" else subject_line
        leaks = [word for word in banned if word in exposed.lower()]
        assert not leaks, f"{message.kind} {channel}: {leaks} in {exposed!r}"
        assert "Robin" in body, "addressed by first name"
        assert "(312) 555-0100" in body, "the clinic's phone, as people write it"
        if channel == "email":
            names = [patient.first_name, patient.legal_first_name, patient.legal_last_name]
            assert not [n for n in names if n and n.lower() in subject_line.lower()], (
                f"{message.kind}: the patient's name in the subject {subject_line!r}"
            )
        assert "http" in body, "a link"
        if channel == "sms":
            assert len(body) <= 320, f"{message.kind} is {len(body)} characters"


def test_spanish_texts_stay_as_short_and_say_nothing_clinical(every_kind, patient, settings):
    """The same checks in Spanish, which runs longer than English: with a clinic name and an
    address as long as a real clinic's."""
    settings.CLINIC_NAME = "Front Range Pain & Spine"
    settings.CLINIC_BASE_URL = "https://portal.frontrangepainspine.com"
    Patient.objects.filter(pk=patient.pk).update(language="es")
    policy = NotificationPolicy.current()
    banned = forbidden_words(patient)
    messages = Message.objects.select_related("patient", "location").order_by("kind", "variant")
    for message in messages.filter(pk__in=[m.pk for m in every_kind]):
        message.channel = "sms"
        _, body = render(message, load_subject(message), policy)
        assert body.startswith("Front Range Pain & Spine: Hola, Robin."), body
        leaks = [word for word in banned if word in body.lower()]
        assert not leaks, f"{message.kind}: {leaks} in {body!r}"
        assert "(312) 555-0100" in body and "https://portal.frontrangepainspine.com/" in body
        assert len(body) <= 320, f"{message.kind} is {len(body)} characters: {body!r}"


def test_a_pump_refill_text_does_say_refill_but_nothing_clinical(every_kind):
    message = next(m for m in every_kind if m.kind == MessageKind.PUMP_REFILL)
    _, body = render(message, load_subject(message), NotificationPolicy.current())
    assert "refill" in body and "baclofen" not in body.lower()


def test_the_email_with_the_hold_names_the_medication_and_its_date(every_kind):
    message = next(m for m in every_kind if m.kind == MessageKind.MEDICATION_HOLD)
    message.channel = "email"
    subject_line, body = render(message, load_subject(message), NotificationPolicy.current())
    assert MEDICATION in body
    assert MEDICATION.lower() not in subject_line.lower()
    # the hold in plain words: last dose, first day without, restart (procedures/holds.py)
    assert "take your last dose on" in body and "Do not take it from" in body
    assert "Start it again" in body


def test_times_are_in_the_location_zone(site, every_kind):
    message = next(
        m
        for m in every_kind
        if m.kind == MessageKind.APPOINTMENT_CONFIRMATION and m.state == "pending"
    )
    subject = load_subject(message)
    _, body = render(message, subject, NotificationPolicy.current())
    local = subject.start.astimezone(site["location"].zone)
    assert f"{local:%-I:%M}" in body
