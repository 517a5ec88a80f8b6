"""The procedures API's filters: valid ones narrow the list, a value they cannot read is a 400
naming the field, never an empty list."""

import uuid

import pytest

from patients.tests.factories import PatientFactory
from procedures.models import OrderStatus
from procedures.tests.factories import ProcedureOrderFactory, ProcedureRecordFactory

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/procedure-orders/"
RECORDS = "/api/v1/procedure-records/"

# No row has this id. Fixed, not random, so every pytest-xdist worker collects the same test ids.
UNKNOWN_ID = "6b1e3c58-2d7a-4f0e-9a51-000000000001"


def assert_refused(response, field: str) -> None:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert (body["code"], body["detail"]) == ("invalid", "Some fields are not valid.")
    assert list(body["fields"]) == [field] and body["fields"][field]


def listed_ids(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_orders_narrow_by_patient_and_status(api_as, clinician_user):
    patient = PatientFactory()
    ordered = ProcedureOrderFactory(patient=patient)
    scheduled = ProcedureOrderFactory(patient=patient, status=OrderStatus.SCHEDULED)
    ProcedureOrderFactory(status=OrderStatus.SCHEDULED)  # someone else's
    client = api_as(clinician_user)
    mine = {str(ordered.pk), str(scheduled.pk)}
    assert listed_ids(client.get(ORDERS, {"patient": str(patient.pk)})) == mine
    both = {"patient": str(patient.pk), "status": "scheduled"}
    assert listed_ids(client.get(ORDERS, both)) == {str(scheduled.pk)}


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "bogus"), ("patient", "not-a-uuid"), ("patient", UNKNOWN_ID)],
)
def test_an_unknown_order_filter_value_is_a_400_naming_the_field(
    api_as, front_desk_user, field, value
):
    ProcedureOrderFactory()
    assert_refused(api_as(front_desk_user).get(ORDERS, {field: value}), field)


def test_a_patient_naming_someone_else_is_refused_like_an_unknown_id(
    api_as, patient_user, other_patient
):
    client = api_as(patient_user)
    someone_else = client.get(ORDERS, {"patient": str(other_patient.pk)})
    nobody = client.get(ORDERS, {"patient": str(uuid.uuid4())})
    assert_refused(someone_else, "patient")
    assert someone_else.json() == nobody.json()


def test_records_narrow_by_patient(api_as, clinician_user):
    mine = ProcedureRecordFactory()
    ProcedureRecordFactory()
    client = api_as(clinician_user)
    assert listed_ids(client.get(RECORDS, {"patient": str(mine.patient_id)})) == {str(mine.pk)}


@pytest.mark.parametrize("value", ["not-a-uuid", UNKNOWN_ID])
def test_an_unknown_record_filter_value_is_a_400_naming_the_field(api_as, clinician_user, value):
    ProcedureRecordFactory()
    assert_refused(api_as(clinician_user).get(RECORDS, {"patient": value}), "patient")
