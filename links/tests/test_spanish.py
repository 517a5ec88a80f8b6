"""The pages behind a message's links need no sign-in, so they speak the language on the
record of the patient the link was sent to (whatever the browser's Accept-Language), unless
this browser chose the other one with the switch; text replies are answered in it too."""

from datetime import date

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from clinic.core.spoken_dates import visit_when
from links.tests.test_manage import enter_birth_date, links_in, url
from links.tests.test_replies import PHONE, answer, text, twilio_token  # noqa: F401
from notifications.models import MessageKind
from notifications.tests.conftest import days_ahead_at, email_patient, sms_patient
from notifications.tests.test_links import performed, send_now
from notifications.tests.test_plans import book, planned

pytestmark = pytest.mark.django_db

BORN = date(1958, 2, 11)
ENGLISH_BROWSER = {"accept-language": "en-US,en;q=0.9"}
SPANISH_BROWSER = {"accept-language": "es-US,es;q=0.9"}


def spoken(moment, zone, language: str) -> str:
    with translation.override(language):
        return visit_when(moment, zone)


@pytest.fixture(autouse=True)
def patients_may_book(site):
    site["type"].patient_bookable = True
    site["type"].save(update_fields=["patient_bookable"])


def visit_for(site, front_desk_user, language: str):
    patient = sms_patient(date_of_birth=BORN, language=language, phone=PHONE)
    return book(site, front_desk_user, patient, days_ahead_at(10, 9, 30))


def manage_token(visit) -> str:
    [token] = links_in(planned(visit)[(MessageKind.APPOINTMENT_REMINDER, "24h")])
    return token


def test_a_spanish_patients_visit_link_speaks_spanish_to_an_english_browser(site, front_desk_user):
    visit = visit_for(site, front_desk_user, "es")
    token = manage_token(visit)
    client = Client(headers=ENGLISH_BROWSER)

    asked = client.get(url(token))
    html = asked.content.decode()
    assert '<html lang="es">' in html and asked["Content-Language"] == "es"
    assert "Para proteger la privacidad de su cita, primero escriba su fecha de nacimiento." in html
    assert "Su fecha de nacimiento" in html and "To keep your visit private" not in html

    wrong = client.post(url(token), {"date_of_birth": "1990-01-01"})
    assert wrong.status_code == 400
    assert "no coincide con nuestros registros. Puede intentarlo 4 veces más." in (
        wrong.content.decode()
    )

    assert enter_birth_date(client, token, BORN).status_code == 302
    page = client.get(url(token)).content.decode()
    when = spoken(visit.start, visit.location.zone, "es")
    assert when.startswith(
        ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
    )
    assert f"{when} en {visit.location.name}." in page
    assert "Sí, asistiré" in page and "Elegir otra hora" in page and "Cancelar mi cita" in page

    moving = client.get(url(token) + "?move=1").content.decode()
    assert "Elija una hora nueva" in moving and "Cambiar mi cita a esta hora" in moving
    assert " a las " in moving and "a.m." not in moving, "the free times read in Spanish"

    done = client.post(url(token), {"action": "confirm"})
    assert f"Su cita del {when} está confirmada." in done.content.decode()


def test_an_english_patients_link_stays_english_in_a_spanish_browser(site, front_desk_user):
    visit = visit_for(site, front_desk_user, "en")
    token = manage_token(visit)
    client = Client(headers=SPANISH_BROWSER)
    html = client.get(url(token)).content.decode()
    assert '<html lang="en">' in html
    assert "To keep your visit private, please enter your date of birth first." in html
    enter_birth_date(client, token, BORN)
    page = client.get(url(token)).content.decode()
    assert f"{spoken(visit.start, visit.location.zone, 'en')} at {visit.location.name}." in page


def test_the_switch_on_a_link_page_gives_this_browser_the_other_language(site, front_desk_user):
    token = manage_token(visit_for(site, front_desk_user, "es"))
    client = Client()
    switched = client.post("/portal/language/", {"language": "en", "next": url(token)})
    assert switched["Location"] == url(token)
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get(url(token)).content.decode()
    assert '<html lang="en">' in html and "To keep your visit private" in html


def test_a_spanish_patients_survey_page_and_its_errors_are_in_spanish(site, clinician_user):
    patient = email_patient(language="es", preferred_name="")
    record = performed(site, patient, clinician_user, "tfesi_ls")
    [token] = send_now(planned(record)[(MessageKind.OUTCOME_SURVEY, "14d")])
    client = Client(headers=ENGLISH_BROWSER)

    html = client.get(url(token)).content.decode()
    assert "<h1>Dos preguntas sobre su dolor</h1>" in html
    assert "¿Cuánto dolor tiene en este momento?" in html
    assert "Muchísimo mejor" in html and "Muchísimo peor" in html
    assert "Very much improved" not in html

    refused = client.post(url(token), {})
    assert refused.status_code == 400
    errors = refused.content.decode()
    assert "Por favor, responda las preguntas marcadas abajo." in errors
    assert "Elija un número del 0 al 10." in errors
    assert "Elija la respuesta que mejor se ajuste." in errors


def test_a_spanish_patients_text_reply_is_answered_in_spanish(client, site, front_desk_user):
    visit = visit_for(site, front_desk_user, "es")
    reply = answer(text(client, "C"))
    when = spoken(visit.start, visit.location.zone, "es")
    assert reply == f"Gracias, su cita del {when} está confirmada."
    visit.refresh_from_db()
    assert visit.confirmed_at is not None


@pytest.mark.parametrize(
    ("browser", "language", "heading", "reason"),
    [
        (
            SPANISH_BROWSER,
            "es",
            "Este enlace no se puede usar",
            "Este enlace no es válido. Revise que lo haya copiado completo.",
        ),
        (
            ENGLISH_BROWSER,
            "en",
            "This link cannot be used",
            "This link is not valid. Please check you copied all of it.",
        ),
    ],
)
def test_an_unknown_link_follows_the_browsers_language(browser, language, heading, reason):
    """No patient is known behind an unknown token: the browser's Accept-Language decides."""
    page = Client(headers=browser).get(url("no-such-token-at-all"))
    html = page.content.decode()
    assert page.status_code == 404 and page["Content-Language"] == language
    assert f'<html lang="{language}">' in html
    assert heading in html and reason in html
