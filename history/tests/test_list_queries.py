"""The history API (a patient's timeline and what is worked out from it) runs the same number
of queries for 1 event of each kind as for 50."""

from datetime import timedelta

import pytest
from django.utils import timezone

from patients.models import Assessment
from patients.tests.factories import PatientFactory
from procedures.tests.factories import ProcedureOrderFactory, at, record

pytestmark = pytest.mark.django_db

ROWS = [1, 50]
TODAY = timezone.localdate()


def events_of_each_kind(patient, count: int) -> None:
    """`count` procedures (each with a follow-up), assessments and orders."""
    for n in range(count):
        record(patient, "tfesi_ls", 30 + n, relief=50, today=TODAY)
        ProcedureOrderFactory(patient=patient)
    Assessment.objects.bulk_create(
        Assessment(
            patient=patient,
            instrument="nrs",
            body_region="low_back",
            items={"score": 5},
            total=5,
            taken_at=at(TODAY - timedelta(days=n)),
        )
        for n in range(count)
    )


@pytest.mark.parametrize("rows", ROWS)
def test_history(api_as, clinician_user, django_assert_num_queries, rows):
    patient = PatientFactory()
    events_of_each_kind(patient, rows)
    client = api_as(clinician_user)
    # role, patient, 12 for the timeline and chart lists (procedures, their follow-ups,
    # assessments, visits, intakes, messages, orders, medications, allergies, conditions,
    # devices, labs), 4 for the safety rules (thresholds, steroids, anticoagulants, the catalog),
    # the open urgent flags, the access-log insert
    with django_assert_num_queries(20):
        response = client.get(f"/api/v1/patients/{patient.pk}/history/")
    assert response.status_code == 200
