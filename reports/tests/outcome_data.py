"""A small clinic whose registry figures are computed by hand in test_outcomes.py.

Four procedures in range (two lumbar transforaminal ESIs, two cervical interlaminar ESIs),
one outside it; outcomes placed on known days so each follow-up point's nearest outcome is
known; a sent survey answered and one not; ODI and NDI pairs on either side of the MCID.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from notifications.models import Channel, Message, MessageKind, MessageState, SubjectType
from patients.models import Assessment, Payer, PayerKind
from patients.tests.factories import PatientFactory
from procedures.models import ProcedureOutcome, ProcedureRecord
from procedures.tests.factories import ProcedureRecordFactory, at
from reports.registry import Filters
from scheduling.tests.factories import LocationFactory, ProviderFactory
from sites.models import Provider

START, END = date(2025, 1, 1), date(2025, 3, 31)
FILTERS = Filters(start=START, end=END)


@dataclass
class Clinic:
    payer: Payer
    first: Provider
    second: Provider
    lumbar_1: ProcedureRecord  # provider 1, payer on file, a complication
    lumbar_2: ProcedureRecord  # provider 2, no payer
    cervical_1: ProcedureRecord  # provider 1, payer
    cervical_0: ProcedureRecord  # provider 1, payer, baseline NRS 0 (relief undefined)
    outside: ProcedureRecord


def outcome(
    record: ProcedureRecord, days: int, nrs: int, pgic: int | None, source: str = "clinic"
) -> ProcedureOutcome:
    relief = (
        (Decimal(record.pre_nrs - nrs) * 100 / record.pre_nrs).quantize(Decimal("0.1"))
        if record.pre_nrs
        else None
    )
    return ProcedureOutcome.objects.create(
        record=record,
        measured_at=record.performed_at + timedelta(days=days),
        nrs=nrs,
        pgic=pgic,
        percent_relief=relief,
        source=source,
    )


def disability(record: ProcedureRecord, instrument: str, days: int, total: int) -> Assessment:
    return Assessment.objects.create(
        patient=record.patient,
        instrument=instrument,
        items={},
        total=Decimal(total),
        taken_at=record.performed_at + timedelta(days=days),
    )


def survey_sent(record: ProcedureRecord, days: int) -> Message:
    sent = record.performed_at + timedelta(days=days)
    return Message.objects.create(
        patient=record.patient,
        channel=Channel.SMS,
        kind=MessageKind.OUTCOME_SURVEY,
        subject_type=SubjectType.PROCEDURE_RECORD,
        subject_id=record.pk,
        variant="14d",
        due_at=sent,
        send_after=sent,
        state=MessageState.SENT,
        sent_at=sent,
    )


def performed(day: date, **fields) -> ProcedureRecord:
    return ProcedureRecordFactory(performed_at=at(day), **fields)


def seed_clinic(location=None) -> Clinic:
    location = location or LocationFactory()
    payer = Payer.objects.create(name="Acme Health", kind=PayerKind.COMMERCIAL)
    first = ProviderFactory(first_name="Ada", last_name="First", credentials="MD")
    second = ProviderFactory(first_name="Bo", last_name="Second", credentials="DO")
    common = {"location": location}
    lumbar_1 = performed(
        date(2025, 1, 10),
        code="tfesi_ls",
        performer=first,
        patient=PatientFactory(payer=payer),
        pre_nrs=8,
        complications="Vasovagal episode, resolved lying flat.",
        **common,
    )
    lumbar_2 = performed(date(2025, 2, 3), code="tfesi_ls", performer=second, pre_nrs=10, **common)
    cervical_1 = performed(
        date(2025, 2, 20),
        code="ilesi_ct",
        performer=first,
        patient=PatientFactory(payer=payer),
        pre_nrs=5,
        **common,
    )
    cervical_0 = performed(
        date(2025, 3, 31),
        code="ilesi_ct",
        performer=first,
        patient=PatientFactory(payer=payer),
        pre_nrs=0,
        **common,
    )
    outside = performed(date(2025, 4, 1), code="tfesi_ls", performer=first, pre_nrs=8, **common)

    outcome(lumbar_1, 14, 4, 2)  # 50%
    outcome(lumbar_1, 90, 6, 3)  # 25%
    outcome(lumbar_1, 180, 2, 1)  # 75%
    outcome(lumbar_1, 45, 0, 1)  # in no window
    survey_sent(lumbar_1, 14)  # never answered by survey
    survey_sent(lumbar_2, 9)
    outcome(lumbar_2, 10, 7, 3, source="survey")  # 30%, nearer day 14 than day 20
    outcome(lumbar_2, 20, 6, 2)  # 40%, not the 2-week figure
    outcome(lumbar_2, 95, 10, 4)  # 0%
    outcome(cervical_1, 14, 5, 4)  # 0%
    outcome(cervical_1, 45, 1, 1)  # in no window
    outcome(cervical_0, 14, 0, 4)  # relief undefined
    outcome(outside, 14, 0, 1)

    disability(lumbar_1, "odi", -10, 40)
    disability(lumbar_1, "odi", 90, 28)  # 12 points better: reaches the MCID
    disability(lumbar_2, "odi", -5, 20)
    disability(lumbar_2, "odi", 92, 15)  # 5 points, 25%: does not
    disability(cervical_1, "odi", -100, 50)  # too old to be a baseline
    disability(cervical_1, "odi", 14, 10)
    disability(cervical_1, "ndi", -1, 20)
    disability(cervical_1, "ndi", 14, 14)  # 6 points: reaches the NDI's 5
    return Clinic(payer, first, second, lumbar_1, lumbar_2, cervical_1, cervical_0, outside)


def days_after(record: ProcedureRecord, days: int) -> datetime:
    return record.performed_at + timedelta(days=days)
