"""Booking through FHIR: an Appointment POSTed with the patient, practitioner, location, kind
of visit and start (or a free Slot) is booked by scheduling's own service; a taken time is a
409 OperationOutcome and nothing is written."""

import pytest

from clinic.audit.models import AuditEvent
from interop.codes import clinic_system
from interop.tests.test_access import outcome
from interop.tests.test_record import valid
from patients.tests.factories import PatientFactory
from scheduling.models import Appointment

pytestmark = pytest.mark.django_db


def asked(clinic, patient_id, start, **extra) -> dict:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "appointmentType": {
            "coding": [
                {"system": clinic_system("appointment-type"), "code": clinic.visit_type.code}
            ]
        },
        "start": start.isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{clinic.provider.id}"}, "status": "accepted"},
            {"actor": {"reference": f"Location/{clinic.location.id}"}, "status": "accepted"},
        ],
        **extra,
    }


def post(client, body: dict):
    return client.post("/fhir/Appointment", body, format="json")


def test_the_front_desk_books_a_visit_and_a_taken_time_is_409(
    fhir_as, front_desk_user, fhir_clinic
):
    client = fhir_as(front_desk_user)
    first, second = PatientFactory(), PatientFactory()
    start = fhir_clinic.start_on(2, hour=11)
    response = post(client, asked(fhir_clinic, first.id, start))
    assert response.status_code == 201, response.content
    booked = valid(response.json())
    assert booked["status"] == "booked"
    assert response["Location"].endswith(f"/fhir/Appointment/{booked['id']}")
    visit = Appointment.objects.get(pk=booked["id"])
    assert (visit.patient, visit.provider, visit.start) == (first, fhir_clinic.provider, start)
    assert AuditEvent.objects.filter(action="write", patients=[first.id]).exists()

    body = outcome(post(client, asked(fhir_clinic, second.id, start)), 409)
    assert body["issue"][0]["code"] == "conflict"
    assert "slot_taken" in body["issue"][0]["diagnostics"]
    notes = [issue for issue in body["issue"] if issue["severity"] == "information"]
    assert notes and all(note["diagnostics"].startswith("Free nearby: ") for note in notes)
    assert not Appointment.objects.filter(patient=second).exists()


def test_a_patient_books_their_own_visit_from_a_free_slot(fhir_as, patient_user, fhir_clinic):
    client = fhir_as(patient_user)
    day = fhir_clinic.start_on(4).date()
    slots = client.get(
        "/fhir/Slot",
        {"service-type": fhir_clinic.visit_type.code, "start": f"ge{day}", "_count": 1},
    ).json()
    slot = slots["entry"][0]["resource"]
    body = {
        "resourceType": "Appointment",
        "status": "proposed",
        "slot": [{"reference": f"Slot/{slot['id']}"}],
        "participant": [
            {"actor": {"reference": f"Location/{fhir_clinic.location.id}"}, "status": "accepted"}
        ],
    }
    response = post(client, body)
    assert response.status_code == 201, response.content
    visit = Appointment.objects.get(pk=response.json()["id"])
    assert visit.patient == patient_user.patient
    assert visit.start.isoformat().replace("+00:00", "Z") == slot["start"]
    # Booking someone else's visit is refused, whatever the body says.
    other = PatientFactory()
    later = fhir_clinic.start_on(5)
    outcome(post(client, asked(fhir_clinic, other.id, later)), 403)
    assert not Appointment.objects.filter(patient=other).exists()


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"status": "fulfilled"}, "Appointment.status"),
        ({"start": "tomorrow"}, "Appointment.start"),
        (
            {"appointmentType": {"coding": [{"code": "no_such_visit"}]}},
            "Appointment.appointmentType",
        ),
        ({"participant": []}, "Appointment.participant"),
        ({"colour": "blue"}, "Appointment.colour"),
    ],
)
def test_a_bad_appointment_is_a_400_naming_the_element(
    fhir_as, front_desk_user, fhir_clinic, change, element
):
    patient = PatientFactory()
    body = asked(fhir_clinic, patient.id, fhir_clinic.start_on(2)) | change
    found = outcome(post(fhir_as(front_desk_user), body), 400)
    expressions = [e for issue in found["issue"] for e in issue.get("expression", [])]
    assert any(e.startswith(element) for e in expressions), found
    assert not Appointment.objects.filter(patient=patient).exists()


def test_a_time_availability_does_not_offer_is_a_400_on_start(
    fhir_as, front_desk_user, fhir_clinic
):
    patient = PatientFactory()
    body = asked(fhir_clinic, patient.id, fhir_clinic.start_on(2, hour=22))
    found = outcome(post(fhir_as(front_desk_user), body), 400)
    assert ["Appointment.start"] in [issue.get("expression") for issue in found["issue"]]
