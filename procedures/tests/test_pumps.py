"""Intrathecal pump refills (issue 14, point 12): the refill and alarm dates from the fill,
units included, through the service, the API and the staff's record form."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinic.core.errors import ValidationFailed
from clinic.users.actor import Actor
from notifications.models import Message, MessageKind, NotificationPolicy
from patients.tests.factories import PatientFactory
from procedures import services
from procedures.models import Guidance, ProcedureType, SafetyThreshold
from procedures.pumps import PumpFill, refill_dates
from scheduling.tests.factories import LocationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

D = Decimal
FILLED = date(2026, 6, 15)

# volume mL, concentration, unit, daily dose, unit -> days until empty (volume x conc / dose)
DAYS = [
    ("20", "500", "mcg/mL", "250", "mcg/day", "40"),  # baclofen
    ("20", "2000", "mcg/mL", "800", "mcg/day", "50"),
    ("40", "25", "mg/mL", "5", "mg/day", "200"),  # morphine
    ("20", "2", "mg/mL", "600", "mcg/day", "66.667"),  # mg/mL with a mcg/day dose
    ("18", "500", "mcg/mL", "0.1", "mg/day", "90"),  # mcg/mL with a mg/day dose
    ("20", "100", "mcg/mL", "2.4", "mcg/day", "833.333"),  # ziconotide
    ("0.5", "10", "mg/mL", "5", "mg/day", "1"),
]


@pytest.mark.parametrize(("volume", "conc", "conc_unit", "dose", "dose_unit", "days"), DAYS)
def test_days_until_empty(volume, conc, conc_unit, dose, dose_unit, days):
    fill = PumpFill(D(volume), D(conc), conc_unit, D(dose), dose_unit)
    assert fill.days_until().quantize(D("0.001")) == D(days).quantize(D("0.001"))


# fill, margin days, alarm mL -> (empty on, refill due, alarm on); whole days counted down.
DATES = [
    (("20", "500", "mcg/mL", "250", "mcg/day"), 7, "2", ("07-25", "07-18", "07-21")),
    (("20", "500", "mcg/mL", "250", "mcg/day"), 0, "0", ("07-25", "07-25", "07-25")),
    (("20", "2", "mg/mL", "600", "mcg/day"), 7, "2", ("08-20", "08-13", "08-14")),
    (("20", "2", "mg/mL", "600", "mcg/day"), 10, "3", ("08-20", "08-10", "08-10")),
    (("40", "25", "mg/mL", "5", "mg/day"), 14, "2", ("2027-01-01", "12-18", "12-22")),
    (("1", "500", "mcg/mL", "250", "mcg/day"), 0, "2", ("06-17", "06-17", "06-15")),
]


def _day(text: str) -> date:
    return date.fromisoformat(text if len(text) == 10 else f"2026-{text}")


@pytest.mark.parametrize(("fill", "margin", "alarm_ml", "expected"), DATES)
def test_refill_and_alarm_dates(fill, margin, alarm_ml, expected):
    volume, conc, conc_unit, dose, dose_unit = fill
    dates = refill_dates(
        PumpFill(D(volume), D(conc), conc_unit, D(dose), dose_unit),
        filled_on=FILLED,
        margin_days=margin,
        alarm_ml=D(alarm_ml),
    )
    assert (dates.empty_on, dates.refill_due, dates.alarm_on) == tuple(map(_day, expected))


def test_the_margin_and_alarm_volume_are_editable_and_flagged_unconfirmed():
    margin = SafetyThreshold.objects.get(key="pump_refill_margin_days")
    alarm = SafetyThreshold.objects.get(key="pump_low_reservoir_alarm_ml")
    assert (margin.value, margin.unit, margin.certain) == (D(7), "days", False)
    assert (alarm.value, alarm.unit, alarm.certain) == (D(2), "mL", False)


# --- Through the service ---------------------------------------------------------------------

CHICAGO = ZoneInfo("America/Chicago")
BACLOFEN = {
    "pump_reservoir_ml": D("20"),
    "pump_concentration": D("500"),
    "pump_concentration_unit": "mcg/mL",
    "pump_daily_dose": D("250"),
    "pump_dose_unit": "mcg/day",
}


@pytest.fixture
def refill_at(clinician_user):
    location = LocationFactory(time_zone="America/Chicago")
    patient = PatientFactory(preferred_channel="email", consent_email=True)

    def make(performed_at: datetime, code: str = "itp_refill", **fields):
        return services.record_create(
            by=Actor.desk(clinician_user),
            patient=patient,
            procedure_type=ProcedureType.objects.get(code=code),
            performed_at=performed_at,
            performer=ProviderFactory(),
            location=location,
            guidance=Guidance.LANDMARK,
            pre_nrs=5,
            post_nrs=5,
            **fields,
        )

    return make


def _local(days_ago: int, hour: int) -> datetime:
    day = timezone.now().astimezone(CHICAGO).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour), tzinfo=CHICAGO)


def test_a_refill_record_calculates_its_dates_and_plans_the_reminder(refill_at):
    performed = _local(1, 10)
    record = refill_at(performed, **BACLOFEN)
    filled_on = performed.date()
    assert record.next_refill_due == filled_on + timedelta(days=40 - 7)
    assert record.pump_alarm_date == filled_on + timedelta(days=36)
    policy = NotificationPolicy.current()
    reminder = Message.objects.get(subject_id=record.pk, kind=MessageKind.PUMP_REFILL)
    reminder_day = record.next_refill_due - timedelta(days=policy.refill_reminder_days)
    assert reminder.due_at == datetime.combine(reminder_day, policy.day_message_time, CHICAGO)
    assert reminder.variant == record.next_refill_due.isoformat()


def test_the_fill_day_is_the_locations_day_not_utcs(refill_at):
    late = _local(1, 22)  # 22:00 in Chicago is the next day in UTC
    record = refill_at(late, **BACLOFEN)
    assert late.astimezone(ZoneInfo("UTC")).date() == late.date() + timedelta(days=1)
    assert record.next_refill_due == late.date() + timedelta(days=33)


def test_an_edited_margin_moves_the_refill_date(refill_at):
    SafetyThreshold.objects.filter(key="pump_refill_margin_days").update(value=10)
    SafetyThreshold.objects.filter(key="pump_low_reservoir_alarm_ml").update(value=3)
    performed = _local(1, 10)
    record = refill_at(performed, **BACLOFEN)
    assert record.next_refill_due == performed.date() + timedelta(days=30)
    assert record.pump_alarm_date == performed.date() + timedelta(days=34)  # 17 mL x 500 / 250


@pytest.mark.parametrize(
    ("code", "fields", "field"),
    [
        ("tfesi_ls", BACLOFEN, "pump_reservoir_ml"),  # not a pump
        ("itp_refill", {**BACLOFEN, "pump_daily_dose": D("2000")}, "pump_daily_dose"),  # 5 days
        ("itp_refill", {**BACLOFEN, "next_refill_due": date(2030, 1, 1)}, "next_refill_due"),
        ("itp_refill", {"pump_reservoir_ml": D("20")}, None),  # a partial fill
        ("itp_refill", {**BACLOFEN, "pump_dose_unit": ""}, None),
    ],
)
def test_a_bad_fill_is_refused_and_nothing_is_written(refill_at, code, fields, field):
    with pytest.raises(ValidationFailed) as caught:
        refill_at(_local(1, 10), code=code, **fields)
    if field:
        assert field in caught.value.fields
    else:
        assert "refill needs the reservoir volume" in str(caught.value.fields)
    assert not Message.objects.filter(kind=MessageKind.PUMP_REFILL).exists()


def test_a_typed_refill_date_without_a_fill_still_works(refill_at):
    due = timezone.now().astimezone(CHICAGO).date() + timedelta(days=20)
    record = refill_at(_local(1, 10), next_refill_due=due)
    assert record.next_refill_due == due and record.pump_alarm_date is None


# --- Through the API and the record form ------------------------------------------------------


def test_the_api_takes_the_fill_and_answers_the_dates(api_as, clinician_user):
    patient = PatientFactory()
    performed = _local(1, 10)
    body = {
        "patient": str(patient.pk),
        "procedure_type": "itp_refill",
        "performed_at": performed.isoformat(),
        "performer": str(ProviderFactory().pk),
        "location": str(LocationFactory(time_zone="America/Chicago").pk),
        "guidance": "landmark",
        "pre_nrs": 4,
        "post_nrs": 4,
        "pump_reservoir_ml": "20",
        "pump_concentration": "2",
        "pump_concentration_unit": "mg/mL",
        "pump_daily_dose": "600",
        "pump_dose_unit": "mcg/day",
        "pump_alarm_date": "2000-01-01",  # read only: ignored
    }
    response = api_as(clinician_user).post("/api/v1/procedure-records/", body, format="json")
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["next_refill_due"] == (performed.date() + timedelta(days=59)).isoformat()
    assert answer["pump_alarm_date"] == (performed.date() + timedelta(days=60)).isoformat()
    bad = api_as(clinician_user).post(
        "/api/v1/procedure-records/", {**body, "pump_dose_unit": "drops"}, format="json"
    )
    assert bad.status_code == 400 and "pump_dose_unit" in bad.json()["fields"]


def test_the_record_form_shows_the_pump_fields(client, clinician_user):
    from procedures.forms import RecordForm
    from procedures.tests.factories import ProcedureOrderFactory

    form = RecordForm(order=ProcedureOrderFactory(code="itp_refill"))
    legends = dict(form.fieldsets())
    names = [field.name for field in legends["Intrathecal pump refill"]]
    assert names[:5] == list(BACLOFEN)
    assert "next_refill_due" in names
