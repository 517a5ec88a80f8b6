"""A patient whose record says Spanish gets Spanish messages: the confirmation email (its
subject, text and HTML parts and the calendar invite it carries) and the reminder text,
with dates as Spanish readers write them; a patient whose record says English gets the
clinic's English wording, unchanged."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail

from notifications.delivery import deliver
from notifications.kinds import load_subject, render
from notifications.models import MessageKind, NotificationPolicy

from .conftest import email_patient
from .test_plans import book, planned

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
BOOKED_ON = datetime(2026, 11, 30, 12, 0, tzinfo=CHICAGO)
VISIT = datetime(2026, 12, 7, 9, 30, tzinfo=CHICAGO)  # a Monday
SPANISH_WHEN = "lunes 7 de diciembre a las 9:30 a. m."
ENGLISH_WHEN = "Monday 7 December at 9:30 a.m."


@pytest.fixture(autouse=True)
def no_quiet_hours(db):
    NotificationPolicy.objects.update_or_create(
        id=1, defaults={"quiet_hours_start": time(0, 0), "quiet_hours_end": time(0, 0)}
    )


@pytest.fixture
def booked(site, front_desk_user, clock):
    """Book VISIT for a patient in `language`; returns (appointment, its planned messages)."""
    clock.move_to(BOOKED_ON)

    def book_for(language: str):
        patient = email_patient(legal_first_name="Rosa", preferred_name="", language=language)
        visit = book(site, front_desk_user, patient, VISIT)
        return visit, planned(visit)

    return book_for


def confirmation_email(messages):
    message = messages[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
    before = len(mail.outbox)
    assert deliver(str(message.pk)) == "sent"
    return mail.outbox[before]


def invite_event(email) -> icalendar.Event:
    (part,) = [p for p in email.attachments if p.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    return event


def reminder_text(messages) -> str:
    message = messages[(MessageKind.APPOINTMENT_REMINDER, "24h")]
    message.channel = "sms"
    return render(message, load_subject(message), NotificationPolicy.current())[1]


def test_a_spanish_patient_gets_the_confirmation_email_in_spanish(booked, site):
    visit, messages = booked("es")
    place, doctor = site["location"].name, site["provider"].display_name
    email = confirmation_email(messages)

    assert email.subject == f"Su cita está programada: {SPANISH_WHEN}"
    body = email.body
    assert body.startswith("Hola, Rosa:")
    assert f"Su cita está programada para el {SPANISH_WHEN} en {place} con {doctor}." in body
    assert "Por favor, confirme que asistirá: http" in body
    assert "Para cambiarla a otra hora: http" in body
    assert "Si tiene alguna pregunta, llámenos al (312) 555-0100." in body
    assert "Si se siente mal o es una emergencia, llame al 911." in body
    for english in ("Hello", "Your visit", "Please", "call us", "booked"):
        assert english not in body

    ((html, _),) = email.alternatives
    assert '<html lang="es">' in html
    assert f"<title>Su cita está programada: {SPANISH_WHEN}</title>" in html
    assert ">Por favor, confirme que asistirá</a>" in html, "the link's button, in Spanish"

    event = invite_event(email)
    assert str(event["SUMMARY"]) == f"Cita en {place}"
    assert str(event["DESCRIPTION"]) == (
        f"Con {doctor}. Preguntas o cambios: llame al (312) 555-0100."
    )
    assert event.decoded("DTSTART") == visit.start


def test_a_spanish_patient_gets_the_reminder_text_in_spanish(booked, site):
    _, messages = booked("es")
    text = reminder_text(messages)
    place = site["location"].name
    assert f"Hola, Rosa. Recordatorio: su cita del {SPANISH_WHEN} en {place}." in text
    assert "Responda C para confirmar o R para que le llamemos. Opciones: http" in text
    assert text.endswith("¿Dudas? Llame al (312) 555-0100.")
    assert len(text) <= 320


def test_an_english_patient_keeps_the_english_wording(booked, site):
    _, messages = booked("en")
    place, doctor = site["location"].name, site["provider"].display_name
    email = confirmation_email(messages)

    assert email.subject == f"Your visit is booked: {ENGLISH_WHEN}"
    assert email.body.startswith("Hello Rosa,\n\n")
    assert f"Your visit is booked for {ENGLISH_WHEN} at {place} with {doctor}." in email.body
    assert "Please confirm you are coming: http" in email.body
    assert "If you cannot come, cancel here so someone else can have the time: http" in (email.body)
    assert "If you have a question, call us at (312) 555-0100." in email.body
    ((html, _),) = email.alternatives
    assert '<html lang="en">' in html and ">Please confirm you are coming</a>" in html
    event = invite_event(email)
    assert str(event["SUMMARY"]) == f"Appointment at {place}"
    assert str(event["DESCRIPTION"]) == f"With {doctor}. Questions or changes: call (312) 555-0100."

    text = reminder_text(messages)
    assert f"Hi Rosa, a reminder of your visit on {ENGLISH_WHEN} at {place}." in text
    assert "Reply C to confirm, R for a call, or manage it: http" in text
