"""Every list of the procedures API runs the same number of queries for 1 row as for 50."""

import pytest

from patients.tests.factories import PatientFactory
from procedures.models import OrderStatus, ProcedureType, SafetyOverride
from procedures.tests.factories import (
    ProcedureOrderFactory,
    ProcedureOutcomeFactory,
    ProcedureRecordFactory,
)
from scheduling.tests.factories import LocationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

ROWS = [1, 50]


def active_catalog_of(size: int) -> None:
    """Exactly `size` active procedure types, each performed by a provider: copies of one
    entry where the catalog is shorter."""
    ProcedureType.objects.update(is_active=False)
    template = ProcedureType.objects.get(code="tfesi_ls")
    performer = ProviderFactory()
    for n in range(size):
        template.pk, template.code, template.is_active = None, f"copy_{n}", True
        template.save()
        template.providers.set([performer])


def orders_with_overrides(count: int, by, **fields) -> None:
    for _ in range(count):
        order = ProcedureOrderFactory(ordered_by=by, **fields)
        SafetyOverride.objects.create(
            order=order, finding_code="anticoagulant_hold", reason="Cleared", overridden_by=by
        )


@pytest.mark.parametrize("rows", ROWS)
def test_procedure_types(api_as, front_desk_user, django_assert_num_queries, rows):
    active_catalog_of(rows)
    client = api_as(front_desk_user)
    with django_assert_num_queries(5):  # role, count, page, their providers and CPT codes
        response = client.get("/api/v1/procedure-types/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("role", ["clinician_user", "front_desk_user"])
def test_orders_for_staff(api_as, request, clinician_user, django_assert_num_queries, role, rows):
    orders_with_overrides(rows, clinician_user)
    client = api_as(request.getfixturevalue(role))
    with django_assert_num_queries(6):  # role, count, page, overrides, who made them, the audit row
        response = client.get("/api/v1/procedure-orders/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_orders_for_their_patient(
    api_as, patient_user, own_patient, clinician_user, django_assert_num_queries, rows
):
    orders_with_overrides(rows, clinician_user, patient=own_patient, status=OrderStatus.SCHEDULED)
    client = api_as(patient_user)
    with django_assert_num_queries(4):  # role, count, page, the audit row
        response = client.get("/api/v1/procedure-orders/")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_records(api_as, clinician_user, django_assert_num_queries, rows):
    patient, performer, location = PatientFactory(), ProviderFactory(), LocationFactory()
    for _ in range(rows):
        record = ProcedureRecordFactory(
            patient=patient, performer=performer, location=location, recorded_by=clinician_user
        )
        ProcedureOutcomeFactory(record=record)
    client = api_as(clinician_user)
    with django_assert_num_queries(5):  # role, count, page, outcomes, the audit row
        response = client.get("/api/v1/procedure-records/")
    assert response.json()["count"] == rows
