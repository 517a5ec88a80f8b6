"""The issue's "done when": a FHIR client speaking plain HTTP to a running server reads a demo
patient's whole record (every resource validating against the R4 models) and books a visit
through FHIR."""

import json
import urllib.error
import urllib.request
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from clinic.users.models import User
from interop.tests.test_record import CHART_TYPES, valid
from scheduling.models import Appointment, AppointmentType, BookingPolicy

CONTENT = "application/json"  # the token API reads JSON; /fhir/ reads it as FHIR JSON too
DEMO_PASSWORD = "demo-pass-123"


class FhirClient:
    """FHIR over HTTP with nothing but the standard library."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/fhir+json, application/json", "Content-Type": CONTENT}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        url = self.base + path  # the live server's http:// address
        request = urllib.request.Request(url, data, headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - our server
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    def sign_in(self, username: str) -> None:
        status, body = self.call(
            "POST", "/api/v1/auth/token/", {"username": username, "password": DEMO_PASSWORD}
        )
        assert status == 200, body
        self.token = body["token"]

    def search(self, path: str) -> list[dict]:
        status, bundle = self.call("GET", f"/fhir/{path}")
        assert status == 200, bundle
        valid(bundle)
        return [valid(entry["resource"]) for entry in bundle.get("entry", [])]


@pytest.fixture
def demo_server(live_server, transactional_db):
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--patients", "6", "--password", DEMO_PASSWORD, stdout=StringIO())
    return live_server


def test_a_demo_patient_reads_their_whole_record_and_books_over_http(demo_server):
    patient = User.objects.get(username="patient").patient
    client = FhirClient(demo_server.url)
    status, statement = client.call("GET", "/fhir/metadata")
    assert status == 200 and valid(statement)["fhirVersion"] == "4.0.1"
    client.sign_in("patient")

    (me,) = client.search("Patient")
    assert me["id"] == str(patient.id)
    record = {
        name: client.search(f"{name}?patient={patient.id}&_count=100") for name in CHART_TYPES
    }
    assert record["Appointment"] and record["Observation"] and record["QuestionnaireResponse"]
    for name, resources in record.items():
        for resource in resources:
            status, read = client.call("GET", f"/fhir/{name}/{resource['id']}")
            assert status == 200 and valid(read) == resource

    visit_type = AppointmentType.objects.filter(patient_bookable=True, is_active=True).first()
    # The demo's portal patient holds many visits already; the online cap is not tested here.
    policy = BookingPolicy.current()
    policy.max_future_bookings = 500
    policy.save()
    slots = client.search(f"Slot?service-type={visit_type.code}&_count=100")
    assert slots, "the demo clinic offers free slots of a kind of visit patients book"
    locations = {f"At {resource['name']}": resource["id"] for resource in client.search("Location")}
    # A slot is the provider's free time; the demo patient may hold a visit then already (the
    # earliest slots of every provider can all fall in one of the patient's visits): try
    # first the slots clear of the patient's own visits.
    busy = [(v.block_start, v.block_end) for v in Appointment.objects.filter(patient=patient)]

    def clear_of_the_patients_visits(slot: dict) -> bool:
        start, end = (datetime.fromisoformat(slot[key]) for key in ("start", "end"))
        return not any(start < busy_end and busy_start < end for busy_start, busy_end in busy)

    for slot in sorted(slots, key=clear_of_the_patients_visits, reverse=True):
        booking = {
            "resourceType": "Appointment",
            "status": "proposed",
            "slot": [{"reference": f"Slot/{slot['id']}"}],
            "participant": [
                {
                    "actor": {"reference": f"Location/{locations[slot['comment']]}"},
                    "status": "accepted",
                }
            ],
        }
        status, booked = client.call("POST", "/fhir/Appointment", booking)
        if status == 201:
            break
        assert status == 409 and "patient_busy" in booked["issue"][0]["diagnostics"], booked
    assert status == 201, booked
    assert valid(booked)["status"] == "booked" and booked["start"] == slot["start"]
    assert Appointment.objects.get(pk=booked["id"]).patient == patient
    status, again = client.call("POST", "/fhir/Appointment", booking)
    assert status in (400, 409) and again["resourceType"] == "OperationOutcome"
