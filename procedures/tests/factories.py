"""Factories for orders, performed procedures and their outcomes.

Procedure types are never made up here: they are looked up by code in the catalog that the
data migration loads from procedures/data/procedures.csv. Dates are built relative to a
fixed TODAY so that every test gives the same answer whenever it runs.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory

from patients.tests.factories import PatientFactory
from procedures.models import (
    AuthStatus,
    Guidance,
    ProcedureOrder,
    ProcedureOutcome,
    ProcedureRecord,
    ProcedureType,
)
from scheduling.tests.factories import LocationFactory, ProviderFactory

TODAY = date(2026, 6, 15)
CLINIC_ZONE = ZoneInfo("America/New_York")
# Mid-morning in the clinic's zone: the same calendar day in UTC and in local time.
PERFORMED_AT = time(10, 0)


def at(day: date, hour: time = PERFORMED_AT, zone: ZoneInfo = CLINIC_ZONE) -> datetime:
    """An aware datetime on `day` at `hour` in the clinic's zone."""
    return datetime.combine(day, hour, tzinfo=zone)


def procedure_type(code: str) -> ProcedureType:
    return ProcedureType.objects.get(code=code)


class ProcedureRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcedureRecord

    class Params:
        code = "tfesi_ls"

    patient = factory.SubFactory(PatientFactory)
    procedure_type = factory.LazyAttribute(lambda o: procedure_type(o.code))
    performer = factory.SubFactory(ProviderFactory)
    location = factory.SubFactory(LocationFactory)
    performed_at = factory.LazyFunction(lambda: at(TODAY - timedelta(days=30)))
    guidance = Guidance.FLUOROSCOPY
    pre_nrs = 7
    post_nrs = 2


class ProcedureOutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcedureOutcome

    record = factory.SubFactory(ProcedureRecordFactory)
    measured_at = factory.LazyAttribute(lambda o: o.record.performed_at + timedelta(days=14))
    nrs = 3
    percent_relief = factory.LazyAttribute(
        lambda o: (
            (Decimal(o.record.pre_nrs - o.nrs) / o.record.pre_nrs * 100).quantize(Decimal("0.1"))
            if o.record.pre_nrs
            else None
        )
    )


class ProcedureOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcedureOrder

    class Params:
        code = "tfesi_ls"

    patient = factory.SubFactory(PatientFactory)
    procedure_type = factory.LazyAttribute(lambda o: procedure_type(o.code))
    indication_code = "M54.16"
    indication_text = "Lumbar radiculopathy"
    auth_status = AuthStatus.NOT_NEEDED


def nrs_for(relief, baseline: int = 7) -> int:
    """The follow-up NRS closest to a given percent relief from `baseline`."""
    return max(0, min(10, round(baseline * (1 - Decimal(str(relief)) / 100))))


def record(
    patient,
    code: str,
    days_ago: int,
    relief=None,
    steroid: str | None = None,
    dose=None,
    today: date = TODAY,
    measured_after_days: int | None = None,
    **fields,
) -> ProcedureRecord:
    """A `code` procedure performed `days_ago` days before `today`.

    With `relief`, also a follow-up with that percent relief and `best_relief_percent` set
    to it: 2 hours after (a pain-diary entry, inside any local anaesthetic's duration, so a
    diagnostic block's relief counts), or `measured_after_days` days after. With `steroid` (a Steroid name), `dose` mg of it.
    """
    if steroid is not None:
        fields["steroid_id"] = steroid
        fields["steroid_dose_mg"] = Decimal(str(dose))
    fields.setdefault("performed_at", at(today - timedelta(days=days_ago)))
    made = ProcedureRecordFactory(patient=patient, code=code, **fields)
    if relief is not None:
        relief = Decimal(str(relief))
        ProcedureOutcomeFactory(
            record=made,
            measured_at=made.performed_at
            + (timedelta(days=measured_after_days) if measured_after_days else timedelta(hours=2)),
            nrs=nrs_for(relief, made.pre_nrs),
            percent_relief=relief,
        )
        made.best_relief_percent = relief
        made.save(update_fields=["best_relief_percent"])
    return made
