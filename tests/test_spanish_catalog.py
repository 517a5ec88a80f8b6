"""What the catalog says to a patient (a visit type's name, a procedure's name and its
preparation) and the medicine holds of their safety check, in the patient's language:
Spanish for a Spanish-speaking patient on the portal and in messages, English for the
others and on staff pages (docs/decisions/0034-spanish.md)."""

from datetime import date

import pytest
from django.apps import apps
from django.utils import translation

from notifications.kinds import render
from notifications.models import MessageKind, NotificationPolicy
from notifications.registry import subject_kind
from notifications.tests.conftest import days_ahead_at, procedure_booking, site  # noqa: F401
from notifications.tests.test_plans import book, planned
from patients.models import DrugClass, Medication
from portal.booking import booking_choices
from portal.booking_forms import WaitlistForm
from procedures.hold_words import patient_hold_text
from procedures.models import ProcedureType
from scheduling.calendar_events import patient_event
from scheduling.spanish import APPOINTMENT_TYPE_NAMES_ES, fill_spanish_names

pytestmark = pytest.mark.django_db

PROCEDURE = "tfesi_ls"
SPANISH_NAME = "Inyección epidural de esteroides transforaminal - lumbar/sacra"
ENGLISH_HOLD = "Apixaban: take your last dose on "
SPANISH_HOLD = "Apixaban: tome la última dosis el "


@pytest.fixture
def visits(site, patient_user, clinician_user):  # noqa: F811
    """The signed-in patient's follow-up visit and procedure visit, the procedure asking them
    to stop apixaban first; their language is set by each test."""
    patient = patient_user.patient
    patient.preferred_channel, patient.consent_email, patient.consent_sms = "email", True, True
    patient.save(update_fields=["preferred_channel", "consent_email", "consent_sms"])
    kind = site["type"]
    kind.name, kind.name_es, kind.patient_bookable = "Follow-up", "Consulta de seguimiento", True
    kind.save(update_fields=["name", "name_es", "patient_bookable"])
    Medication.objects.create(
        patient=patient, name="Apixaban", drug_class=DrugClass.DOAC, dose="5 mg"
    )
    follow_up = book(site, clinician_user, patient, days_ahead_at(9, 9))
    procedure = procedure_booking(site, patient, clinician_user, start=days_ahead_at(10, 9))
    return {"follow_up": follow_up, "procedure": procedure, "patient": patient}


def speaking(patient, language: str) -> None:
    patient.language = language
    patient.save(update_fields=["language"])


def test_the_shipped_catalog_has_its_spanish_name_and_preparation():
    kind = ProcedureType.objects.get(code=PROCEDURE)
    assert kind.name_es == SPANISH_NAME
    assert kind.preparation_es.startswith("Traiga su lista de medicamentos")
    assert "diabetes" in kind.preparation_es and "blood" not in kind.preparation_es
    with translation.override("es"):
        assert (kind.localized_name, kind.localized_preparation) == (
            SPANISH_NAME,
            kind.preparation_es,
        )
    with translation.override("en"):
        assert (kind.localized_name, kind.localized_preparation) == (kind.name, kind.preparation)


def test_a_blank_spanish_column_reads_the_english():
    kind = ProcedureType.objects.get(code=PROCEDURE)
    kind.name_es = kind.preparation_es = ""
    with translation.override("es"):
        assert (kind.localized_name, kind.localized_preparation) == (kind.name, kind.preparation)


def test_the_seeded_visit_types_get_their_spanish_names_where_none_is_written(site):  # noqa: F811
    from scheduling.tests.factories import AppointmentTypeFactory

    follow_up = AppointmentTypeFactory(code="follow_up", name="Follow-up")
    telehealth = AppointmentTypeFactory(code="telehealth", name="Telehealth", name_es="Video")
    fill_spanish_names(apps)
    follow_up.refresh_from_db(), telehealth.refresh_from_db()
    assert follow_up.name_es == APPOINTMENT_TYPE_NAMES_ES["follow_up"]
    assert telehealth.name_es == "Video", "a manager's own words are kept"


@pytest.mark.parametrize("language", ["es", "en"])
def test_portal_home_and_my_appointments_speak_the_patients_language(
    client, patient_user, visits, language
):
    speaking(visits["patient"], language)
    kind = ProcedureType.objects.get(code=PROCEDURE)
    client.sign_in(patient_user)
    home = client.get("/portal/").content.decode()
    mine = client.get("/portal/appointments/").content.decode()
    spanish = language == "es"
    said = (SPANISH_NAME, "Consulta de seguimiento", kind.preparation_es, SPANISH_HOLD)
    english = (kind.name, "Follow-up", kind.preparation, ENGLISH_HOLD)
    for page in (home, mine):
        for shown, other in zip(*((said, english) if spanish else (english, said)), strict=True):
            assert shown.replace("'", "&#x27;") in page
            assert other.replace("'", "&#x27;") not in page


def test_the_booking_picker_names_visits_and_ordered_procedures_in_spanish(visits, clinician_user):
    from clinic.users.actor import Actor
    from procedures.services import order_authorize, order_create
    from scheduling.models import AppointmentType

    AppointmentType.objects.filter(code="procedure").update(patient_bookable=True)
    order = order_create(
        patient=visits["patient"],
        procedure_type=ProcedureType.objects.get(code=PROCEDURE),
        side="left",
        levels=["L4-L5"],
        indication_code="M54.16",
        indication_text="Lumbar radiculopathy",
        auth_status="not_needed",
        by=Actor.desk(clinician_user),
    )
    order_authorize(order=order, by=Actor.desk(clinician_user))
    with translation.override("es"):
        labels = [choice.label for choice in booking_choices(visits["patient"])]
        waitlist = [
            label
            for _, label in WaitlistForm(patient=visits["patient"])
            .fields["appointment_type"]
            .choices
        ]
    assert "Consulta de seguimiento" in labels
    assert f"Procedimiento: {SPANISH_NAME}" in labels
    assert "Consulta de seguimiento" in waitlist and "Follow-up" not in waitlist


def rendered(message) -> tuple[str, str]:
    subject = subject_kind(message.subject_type).load(message.subject_id)
    return render(message, subject, NotificationPolicy.current())


def test_a_spanish_patients_emails_carry_the_spanish_preparation_and_hold(visits):
    speaking(visits["patient"], "es")
    kind = ProcedureType.objects.get(code=PROCEDURE)
    messages = planned(visits["procedure"])
    _, preparation = rendered(messages[(MessageKind.PREPARATION, "")])
    hold = next(m for (k, _), m in messages.items() if k == MessageKind.MEDICATION_HOLD)
    _, hold_body = rendered(hold)
    assert kind.preparation_es in preparation and kind.preparation not in preparation
    for body in (preparation, hold_body):
        assert SPANISH_HOLD in body and "take your last dose" not in body
        assert " de 20" in body.split(SPANISH_HOLD)[1].splitlines()[0], "days read in Spanish"


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_a_spanish_confirmation_names_no_procedure_in_either_language(visits, channel):
    """A confirmation says when and where (never what: DESIGN convention 8), in Spanish."""
    speaking(visits["patient"], "es")
    visits["patient"].preferred_channel = channel
    visits["patient"].save(update_fields=["preferred_channel"])
    confirmation = planned(visits["procedure"])[(MessageKind.APPOINTMENT_CONFIRMATION, "")]
    confirmation.channel = channel
    subject_line, body = rendered(confirmation)
    kind = ProcedureType.objects.get(code=PROCEDURE)
    assert "su cita" in body.lower() or "Su cita" in subject_line
    for name in (kind.name, kind.name_es, "Procedure"):
        assert name not in body and name not in subject_line


def test_the_calendar_invite_summary_is_spanish_for_a_spanish_patient(visits):
    speaking(visits["patient"], "es")
    with translation.override("es"):
        event = patient_event(visits["procedure"])
    assert event.summary.startswith("Cita en ")
    assert SPANISH_NAME not in event.summary and "Procedure" not in event.summary


# --- The hold sentence, from the finding's values --------------------------------------------

DETAILS = {
    "medication": "Eliquis",
    "procedure_on": "2030-03-08",
    "last_dose": "2030-03-04",
    "first_day_without": "2030-03-05",
    "hold_hours": 72,
    "restart_after": "24 hours",
    "restart_on": "2030-03-09",
}


def test_a_hold_reads_in_english_as_the_safety_check_has_always_written_it():
    with translation.override("en"):
        text = patient_hold_text(DETAILS)
    assert text == (
        "Eliquis: take your last dose on Monday 4 March 2030. Do not take it from Tuesday 5 "
        "March 2030 until after your procedure on Friday 8 March 2030. Start it again on "
        "Saturday 9 March 2030 (24 hours after the procedure), unless your clinician tells "
        "you otherwise."
    )


def test_a_hold_reads_in_spanish_with_spanish_days_and_a_blood_test():
    with translation.override("es"):
        text = patient_hold_text(DETAILS | {"inr_test_from": "2030-03-01"})
    assert text == (
        "Eliquis: tome la última dosis el lunes 4 de marzo de 2030. No lo tome desde el "
        "martes 5 de marzo de 2030 hasta después de su procedimiento del viernes 8 de marzo "
        "de 2030. Necesita un análisis de sangre (INR) a partir del viernes 1 de marzo de "
        "2030. Vuelva a tomarlo el sábado 9 de marzo de 2030 (24 horas después del "
        "procedimiento), salvo que su profesional clínico le indique otra cosa."
    )


@pytest.mark.parametrize(
    ("restart_after", "english", "spanish"),
    [
        ("12-24 hours", "Start it again 12-24 hours after", "Vuelva a tomarlo 12-24 horas después"),
        ("", "Ask your clinician when", "Pregunte a su profesional clínico cuándo"),
        (
            "6 hours (high) / 2 hours (low and intermediate)",
            "Start it again 6 hours (high) / 2 hours (low and intermediate) after",
            "Pregunte a su profesional clínico cuándo",  # a manager's own words stay English
        ),
    ],
)
def test_the_restart_column_in_each_language(restart_after, english, spanish):
    details = DETAILS | {"restart_after": restart_after, "restart_on": None}
    with translation.override("en"):
        assert english in (patient_hold_text(details) or "")
    with translation.override("es"):
        assert spanish in (patient_hold_text(details) or "")


def test_a_finding_kept_before_the_values_existed_shows_its_stored_sentence():
    from scheduling.selectors import _hold_text

    kept = {"code": "hold:x", "reason": "staff words", "details": {"patient_text": "Old words."}}
    with translation.override("es"):
        assert _hold_text(kept) == "Old words."
    assert patient_hold_text({"hold_start": date(2030, 3, 5).isoformat()}) is None
