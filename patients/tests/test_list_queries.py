"""Every list of the patients API runs the same number of queries for 1 row as for 50."""

from collections.abc import Callable

import pytest
from django.utils import timezone

from patients.models import (
    Allergy,
    Assessment,
    Condition,
    Decision,
    DuplicateCandidate,
    ImplantedDevice,
    IntakeItem,
    IntakeItemKind,
    IntakeStatus,
    IntakeSubmission,
    LabResult,
    Medication,
    Patient,
)
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

ROWS = [1, 50]

ChartRow = Callable[[Patient, int, object], object]
CHART_ROWS: dict[str, ChartRow] = {
    "allergies": lambda patient, n, by: Allergy(
        patient=patient, substance=f"Substance {n}", recorded_by=by
    ),
    "medications": lambda patient, n, by: Medication(
        patient=patient, name=f"Drug {n}", drug_class="opioid", recorded_by=by
    ),
    "conditions": lambda patient, n, by: Condition(
        patient=patient, kind="other", description=f"Condition {n}", recorded_by=by
    ),
    "devices": lambda patient, n, by: ImplantedDevice(
        patient=patient, kind="other", description=f"Device {n}", recorded_by=by
    ),
    "labs": lambda patient, n, by: LabResult(
        patient=patient,
        kind="inr",
        value=1 + n % 3,
        unit="ratio",
        taken_on=timezone.localdate(),
        recorded_by=by,
    ),
    "assessments": lambda patient, n, by: Assessment(
        patient=patient,
        instrument="nrs",
        body_region="low_back",
        items={"score": n % 11},
        total=n % 11,
        taken_at=timezone.now(),
        recorded_by=by,
    ),
}


def submitted_intakes(count: int, decided_by) -> list[IntakeSubmission]:
    """`count` submitted intakes, each with a decided clinical item and a pending demographic
    one (what the front desk's queue looks for)."""
    intakes = IntakeSubmission.objects.bulk_create(
        IntakeSubmission(
            patient=PatientFactory(), status=IntakeStatus.SUBMITTED, submitted_at=timezone.now()
        )
        for _ in range(count)
    )
    IntakeItem.objects.bulk_create(
        item
        for intake in intakes
        for item in (
            IntakeItem(
                submission=intake, kind=IntakeItemKind.DEMOGRAPHIC, field="city", proposed=""
            ),
            IntakeItem(
                submission=intake,
                kind=IntakeItemKind.MEDICATION,
                proposed={"name": "Ibuprofen"},
                decision=Decision.ACCEPTED,
                decided_by=decided_by,
            ),
        )
    )
    return intakes


@pytest.mark.parametrize("rows", ROWS)
def test_patient_list(api_as, front_desk_user, django_assert_num_queries, rows):
    PatientFactory.create_batch(rows)
    client = api_as(front_desk_user)
    with django_assert_num_queries(4):  # role, count, page, the audit row
        response = client.get("/api/v1/patients/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_patient_list_with_a_search(api_as, front_desk_user, django_assert_num_queries, rows):
    PatientFactory.create_batch(rows, legal_last_name="Quintero")
    client = api_as(front_desk_user)
    with django_assert_num_queries(4):  # role, count, page, the audit row
        response = client.get("/api/v1/patients/", {"search": "quintero"})
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("chart_list", CHART_ROWS)
def test_chart_lists(api_as, clinician_user, django_assert_num_queries, chart_list, rows):
    patient = PatientFactory()
    make_row = CHART_ROWS[chart_list]
    model = type(make_row(patient, 0, clinician_user))
    model.objects.bulk_create(make_row(patient, n, clinician_user) for n in range(rows))
    client = api_as(clinician_user)
    with django_assert_num_queries(
        5
    ):  # role, patient, count, page with who recorded it, the audit row
        response = client.get(f"/api/v1/patients/{patient.pk}/{chart_list}/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_a_patients_intakes(api_as, clinician_user, django_assert_num_queries, rows):
    intakes = submitted_intakes(rows, clinician_user)
    patient = intakes[0].patient
    IntakeSubmission.objects.filter(pk__in=[i.pk for i in intakes]).update(patient=patient)
    client = api_as(clinician_user)
    with django_assert_num_queries(
        6
    ):  # role, patient, count, page, items with who decided, the audit row
        response = client.get(f"/api/v1/patients/{patient.pk}/intakes/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("role", ["front_desk_user", "clinician_user"])
def test_intake_queue(api_as, request, clinician_user, django_assert_num_queries, role, rows):
    submitted_intakes(rows, clinician_user)
    client = api_as(request.getfixturevalue(role))
    with django_assert_num_queries(4):  # role, count, page with the patients, the audit row
        response = client.get("/api/v1/intakes/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_open_duplicates(api_as, front_desk_user, django_assert_num_queries, rows):
    DuplicateCandidate.objects.bulk_create(
        DuplicateCandidate(patient=PatientFactory(), match=PatientFactory(), reasons=["phone"])
        for _ in range(rows)
    )
    client = api_as(front_desk_user)
    with django_assert_num_queries(4):  # role, count, page with both records, the audit row
        response = client.get("/api/v1/duplicates/")
    assert response.json()["count"] == rows
