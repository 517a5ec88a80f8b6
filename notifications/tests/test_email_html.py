"""Emails go out as people expect them: a plain-text part and an HTML part laid out from the
same text (the clinic's name and colour, links as buttons), readable on a phone, with no
patient data in the subject."""

from datetime import time

import pytest
from django.core import mail

from notifications.delivery import deliver
from notifications.email_html import Line, email_html, paragraphs
from notifications.models import MessageKind, NotificationPolicy

from .conftest import days_ahead_at, email_patient
from .test_plans import book, planned

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_quiet_hours(db):
    NotificationPolicy.objects.update_or_create(
        id=1, defaults={"quiet_hours_start": time(0, 0), "quiet_hours_end": time(0, 0)}
    )


def test_a_line_ending_in_a_link_becomes_a_button_and_others_stay_text():
    body = "Hello Rosa,\n\nPlease confirm you are coming: https://c.example/m/abc/\nOr call us.\n\nClinic"
    assert paragraphs(body) == [
        [Line("Hello Rosa,")],
        [Line("Please confirm you are coming", "https://c.example/m/abc/"), Line("Or call us.")],
        [Line("Clinic")],
    ]
    assert paragraphs("https://c.example/only/") == [
        [Line("https://c.example/only/", "https://c.example/only/")]
    ]


def test_the_html_escapes_what_it_is_given(settings):
    html = email_html("Hello <b>you</b> & co\n\nSee: https://c.example/?a=1&b=2", subject="S")
    assert "&lt;b&gt;you&lt;/b&gt; &amp; co" in html
    assert 'href="https://c.example/?a=1&amp;b=2"' in html


def test_a_confirmation_has_text_and_html_parts_that_say_the_same(site, front_desk_user, settings):
    settings.CLINIC_NAME, settings.CLINIC_BRAND_COLOUR = "Front Range Pain", "#7a1f5c"
    patient = email_patient(legal_first_name="Rosa", preferred_name="")
    visit = book(site, front_desk_user, patient, days_ahead_at(10, 9, 30))
    message = planned(visit)[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
    assert deliver(str(message.pk)) == "sent"
    (email,) = mail.outbox
    assert email.body.startswith("Hello Rosa,")
    ((html, mimetype),) = email.alternatives
    assert mimetype == "text/html"
    assert "Front Range Pain</td>" in html and "background:#7a1f5c" in html
    assert 'name="viewport"' in html
    for paragraph in paragraphs(email.body):
        for line in paragraph:
            assert (f'href="{line.url}"' if line.url else line.text) in html
    assert "Rosa" not in email.subject and patient.legal_last_name not in email.subject
