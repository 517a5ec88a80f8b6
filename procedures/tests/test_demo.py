"""The demo procedure histories and orders: believable, made through the services, seeded once.

Seeding the demo clinic takes several seconds, so one test seeds it and runs every check.
"""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Max
from django.test import override_settings
from django.utils import timezone

from clinic.users.models import User
from patients.models import Patient
from procedures.models import (
    OrderStatus,
    ProcedureOrder,
    ProcedureOutcome,
    ProcedureRecord,
    SafetyOverride,
)
from procedures.selectors import orders_visible_to
from procedures.services import unresolved_blocks
from sites.models import ProviderKind

pytestmark = pytest.mark.django_db

PROCEDURE_TABLES = [ProcedureOrder, ProcedureRecord, ProcedureOutcome, SafetyOverride]
OPEN = [OrderStatus.ORDERED, OrderStatus.AUTHORIZED, OrderStatus.SCHEDULED]


def seed() -> str:
    out = StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--patients", "100", "--password", "demo-password-1", stdout=out)
    return out.getvalue()


def procedure_counts() -> dict:
    return {model._meta.label: model.objects.count() for model in PROCEDURE_TABLES}


def records(code: str):
    return ProcedureRecord.objects.filter(procedure_type__code=code).order_by("performed_at")


def check_records_and_outcomes():
    now = timezone.now()
    physician = User.objects.get(username="physician")
    assert ProcedureRecord.objects.filter(
        outcomes__isnull=False, best_relief_percent__isnull=False
    ).exists()
    for record in ProcedureRecord.objects.select_related("performer", "order"):
        assert now - timedelta(days=550) < record.performed_at < now
        assert record.recorded_by == physician
        assert record.performer.kind == ProviderKind.PHYSICIAN
        assert record.location == record.patient.home_location
        assert record.order is None, "past procedures are recorded as performed, without orders"
    for outcome in ProcedureOutcome.objects.select_related("record"):
        pre = outcome.record.pre_nrs
        assert outcome.record.performed_at < outcome.measured_at < now
        expected = (Decimal(pre - outcome.nrs) * 100 / pre).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        assert outcome.percent_relief == expected
    best = ProcedureRecord.objects.annotate(top=Max("outcomes__percent_relief"))
    assert all(record.best_relief_percent == record.top for record in best)
    # Procedures fit the regions: ESIs with the usual steroids, cervical ones non-particulate.
    esis = ProcedureRecord.objects.filter(procedure_type__family="esi")
    assert esis.count() >= 10
    assert set(esis.values_list("steroid", flat=True)) <= {"triamcinolone", "dexamethasone"}
    assert set(records("tfesi_ct").values_list("steroid", flat=True)) == {"dexamethasone"}
    for code in ("ilesi_ls", "tfesi_ls", "si_injection", "trigger_point", "genicular_rfa"):
        assert records(code).exists(), code


def check_pathways():
    # Facet: two positive medial branch blocks before the RFA, outcomes for 6+ months.
    rfa = records("rfa_ls").first()
    blocks = records("mbb_ls").filter(patient=rfa.patient, performed_at__lt=rfa.performed_at)
    assert blocks.filter(best_relief_percent__gte=80).count() >= 2
    lasted = rfa.outcomes.order_by("measured_at").last()
    assert lasted.measured_at - rfa.performed_at >= timedelta(days=182)
    # One positive and one negative block: no RFA.
    mixed = [
        patient
        for patient in Patient.objects.filter(procedure_records__procedure_type__code="mbb_ls")
        .distinct()
        .prefetch_related("procedure_records__procedure_type")
        if {
            r.best_relief_percent >= 80
            for r in patient.procedure_records.all()
            if r.procedure_type.code == "mbb_ls"
        }
        == {True, False}
    ]
    assert mixed
    assert not records("rfa_ls").filter(patient__in=mixed).exists()
    # Four ESIs in a year for someone, a genicular block before the ablation, a good SCS trial.
    year_ago = timezone.now() - timedelta(days=365)
    per_patient = {}
    for patient_id in (
        records("tfesi_ls").filter(performed_at__gte=year_ago).values_list("patient", flat=True)
    ):
        per_patient[patient_id] = per_patient.get(patient_id, 0) + 1
    assert max(per_patient.values()) >= 4
    ablation = records("genicular_rfa").first()
    assert (
        records("genicular_block")
        .filter(patient=ablation.patient, performed_at__lt=ablation.performed_at)
        .exists()
    )
    assert records("scs_trial").get().best_relief_percent == Decimal("60.0")


def check_orders():
    today = timezone.localdate()
    statuses = set(ProcedureOrder.objects.values_list("status", flat=True))
    assert set(OPEN) | {OrderStatus.CANCELLED} <= statuses
    assert all(
        ProcedureOrder.objects.filter(status=OrderStatus.CANCELLED).values_list(
            "cancel_reason", flat=True
        )
    )
    scheduled = ProcedureOrder.objects.filter(status=OrderStatus.SCHEDULED)
    for order in scheduled:
        assert today <= order.planned_date <= today + timedelta(days=25)  # today: the worklist's
        assert not unresolved_blocks(order)
    assert SafetyOverride.objects.filter(order__in=scheduled).exists()
    open_orders = ProcedureOrder.objects.filter(status__in=OPEN)
    # Left for the clinician: a fifth ESI in a year, and a blood thinner not held in time.
    blocks = {block["code"] for order in open_orders for block in unresolved_blocks(order)}
    assert "session_limit:esi_max_sessions" in blocks
    assert any(code.startswith("hold:") for code in blocks)
    # The portal patient sees their scheduled procedure.
    portal = User.objects.get(username="patient")
    assert orders_visible_to(portal).filter(status=OrderStatus.SCHEDULED).exists()


@pytest.mark.date_sensitive
def test_demo_procedures_are_believable_and_seeded_once():
    output = seed()
    assert "procedure records" in output and "blocked orders" in output
    check_records_and_outcomes()
    check_pathways()
    check_orders()
    first = procedure_counts()
    output = seed()
    assert "0 procedure histories built" in output
    assert procedure_counts() == first
