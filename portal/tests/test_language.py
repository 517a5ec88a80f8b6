"""English or Spanish: chosen at registration, kept on the patient's record, switched in the
portal, and used for the patient's pages and emails; staff pages stay English."""

import re
from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import translation

from clinic.core.spoken_dates import day_and_month, long_day, on_page
from patients.models import Patient
from portal.language import SESSION_KEY
from portal.tests import test_week_picker as week_picker
from portal.tests.test_week_picker import DENVER, book, day_section, local_today, times

pytestmark = pytest.mark.django_db

clinic = week_picker.clinic  # the week picker's Denver clinic, as a fixture here too
PASSWORD = "violet-harbor-lantern-42"
REGISTRATION = {
    "legal_first_name": "Rosa",
    "legal_last_name": "Delgado",
    "date_of_birth": "1961-05-02",
    "email": "rosa@example.org",
    "phone": "(919) 555-0142",
    "preferred_channel": "email",
    "consent_sms": "no",
    "consent_email": "yes",
    "password": PASSWORD,
    "password_confirm": PASSWORD,
}
VERIFY_LINK = re.compile(r"https?://[^\s/]+(/accounts/verify/[\w-]+/)")


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def test_before_sign_in_the_browser_language_is_used(client):
    spanish = client.get("/accounts/login/", headers={"accept-language": "es-US,es;q=0.9"})
    english = client.get("/accounts/login/", headers={"accept-language": "en-US"})
    assert html_lang(spanish) == "es"
    assert "Iniciar sesión" in spanish.content.decode()
    assert "¿Olvidó su contraseña?" in spanish.content.decode()
    assert html_lang(english) == "en"
    assert "Forgot your password?" in english.content.decode()
    assert "Accept-Language" in spanish["Vary"]


def test_the_switch_before_sign_in_keeps_the_choice_in_a_cookie(client):
    response = client.post("/portal/language/", {"language": "es", "next": "/accounts/register/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/register/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    page = client.get("/accounts/register/", headers={"accept-language": "en-US"})
    assert "Cree su cuenta de paciente" in page.content.decode()
    assert re.search(r'<input[^>]*name="language" value="es"[^>]*checked', page.content.decode())


def test_the_switch_refuses_another_site_and_an_unknown_language(client):
    response = client.post("/portal/language/", {"language": "fr", "next": "https://evil.example"})
    assert response["Location"] == "/"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_registering_in_spanish_sends_a_spanish_email_and_keeps_spanish_on_the_record(client):
    response = client.post("/accounts/register/", {**REGISTRATION, "language": "es"})
    assert response.status_code == 302
    (email,) = mail.outbox
    assert email.subject == f"Su cuenta del portal de pacientes de {settings.CLINIC_NAME}"
    assert "Para terminar de crear su cuenta" in email.body
    verify = VERIFY_LINK.search(email.body).group(1)
    assert client.post(verify).status_code == 302
    assert Patient.objects.get(email="rosa@example.org").language == "es"
    home = client.get("/portal/", headers={"accept-language": "en-US"})
    assert html_lang(home) == "es"
    assert "Bienvenido/a, Rosa" in home.content.decode()


def test_a_registration_without_a_choice_takes_the_page_language(client):
    client.post("/accounts/register/", REGISTRATION, headers={"accept-language": "es"})
    (email,) = mail.outbox
    assert "Hola:" in email.body
    assert email.subject.startswith("Su cuenta")


def test_a_spanish_patient_gets_spanish_pages_after_signing_in(client, patient_user):
    Patient.objects.filter(user=patient_user).update(language="es")
    client.sign_in(patient_user)
    assert client.session[SESSION_KEY] == "es"
    home = client.get("/portal/", headers={"accept-language": "en-US"})
    html = home.content.decode()
    assert html_lang(home) == "es"
    assert "Su expediente" in html
    assert ">Mis citas<" in html  # the navigation too
    assert home.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    intake = client.get("/portal/intake/")
    assert "Su formulario de admisión" in intake.content.decode()


def test_the_portal_switch_changes_the_record_and_the_pages(client, patient_user):
    client.sign_in(patient_user)
    assert "Your record" in client.get("/portal/").content.decode()
    response = client.post("/portal/language/", {"language": "es", "next": "/portal/"})
    assert response["Location"] == "/portal/"
    assert Patient.objects.get(user=patient_user).language == "es"
    assert "Su expediente" in client.get("/portal/").content.decode()
    client.post("/portal/language/", {"language": "en", "next": "/portal/"})
    assert Patient.objects.get(user=patient_user).language == "en"
    assert "Your record" in client.get("/portal/").content.decode()


def test_staff_pages_stay_english_whatever_the_browser_says(client, front_desk_user):
    client.sign_in(front_desk_user)
    page = client.get("/patients/", headers={"accept-language": "es"})
    assert page.status_code == 200
    assert html_lang(page) == "en"
    assert "language-switch" not in page.content.decode()
    switch = client.post("/portal/language/", {"language": "es", "next": "/patients/"})
    assert settings.LANGUAGE_COOKIE_NAME not in switch.cookies
    assert html_lang(client.get("/patients/")) == "en"


def test_the_api_stays_english(client):
    response = client.get("/api/v1/me/", headers={"accept-language": "es"})
    assert response["Content-Language"] == "en"


def test_dates_are_written_the_way_each_language_writes_them():
    day = date(2026, 12, 7)
    with translation.override("es"):
        assert long_day(day) == "lunes, 7 de diciembre de 2026"
        assert day_and_month(day) == "lunes 7 de diciembre"
    with translation.override("en"):
        assert long_day(day) == "Monday, December 7, 2026"
        assert day_and_month(day) == "Monday 7 December"


def test_pages_write_moments_in_the_shape_they_always_had_in_each_language():
    moment = datetime(2026, 12, 7, 9, 30, tzinfo=DENVER)
    with translation.override("en"):
        assert on_page(moment, "time") == "9:30 AM"
        assert on_page(moment, "day_time") == "Monday 7 December, 9:30 AM"
        assert on_page(moment, "short_day_time") == "Mon 7 Dec, 9:30 AM"
        assert on_page(moment.date(), "day_month_year") == "7 December 2026"
    with translation.override("es"):
        assert on_page(moment, "time") == "9:30 a. m."
        assert on_page(moment, "day_time") == "lunes 7 de diciembre, 9:30 a. m."
        assert on_page(moment, "short_day_time") == "lun 7 dic, 9:30 a. m."
        assert on_page(moment, "full_day_time") == "lunes 7 de diciembre de 2026, 9:30 a. m."
        assert on_page(moment.date(), "day_month_year") == "7 de diciembre de 2026"


def test_a_spanish_patient_books_from_spanish_pages_with_spanish_times(
    client, patient_user, clinic
):
    Patient.objects.filter(user=patient_user).update(language="es")
    client.sign_in(patient_user)
    start = client.get("/portal/book/", headers={"accept-language": "en-US"}).content.decode()
    assert "<h1>Hacer una cita</h1>" in start and "¿Qué desea programar?" in start

    page = times(client, clinic).content.decode()
    first_free = local_today() + timedelta(days=10)
    with translation.override("es"):
        heading = day_and_month(first_free)
    assert f">{heading}</h3>" in page
    day = day_section(page, first_free)
    assert "8:00 a. m." in day and "AM" not in day
    assert "Mañana" in day and "<h1>Elija una hora</h1>" in page

    visit = book(Patient.objects.get(user=patient_user), clinic, first_free, 9)
    mine = client.get("/portal/appointments/").content.decode()
    with translation.override("es"):
        when = on_page(visit.start.astimezone(DENVER), "full_day_time")
    assert "<h1>Mis citas</h1>" in mine and f">{when}</h3>" in mine
    assert "hora de las Montañas Rocosas" in mine
    assert "Agregar al calendario" in mine and "Sí, cancelar esta cita" in mine
