"""Intrathecal pump refills: when the reservoir runs empty, when its low-reservoir alarm
sounds and when the next refill is due, from what the refill record says was filled.

days = volume (mL) x concentration (mg/mL) / daily dose (mg/day), micrograms converted to
milligrams. The refill is due a safety margin before the reservoir would be empty; the
alarm sounds when the alarm volume is left. Both numbers are editable thresholds, flagged
unconfirmed (`pump_refill_margin_days`, `pump_low_reservoir_alarm_ml`). Days are whole
days counted down: a reservoir that lasts 50.9 days is empty on day 50.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from .models import ProcedureType, SafetyThreshold

MCG_PER_MG = Decimal(1000)
PUMP_FIELDS = (
    "pump_reservoir_ml",
    "pump_concentration",
    "pump_concentration_unit",
    "pump_daily_dose",
    "pump_dose_unit",
)
MARGIN_KEY, ALARM_KEY = "pump_refill_margin_days", "pump_low_reservoir_alarm_ml"
CALCULATED = "The refill date is calculated from the reservoir volume, concentration and dose."


def fills_a_pump(kind: ProcedureType) -> bool:
    """An intrathecal implant or refill fills the reservoir; the trial (a single injection or
    an external catheter) does not."""
    return kind.family == "intrathecal" and not kind.code.endswith("_trial")


def in_mg(amount: Decimal, unit: str) -> Decimal:
    """mg/mL or mg/day as they are; mcg/mL or mcg/day divided by 1000."""
    return amount / MCG_PER_MG if unit.startswith("mcg") else amount


@dataclass(frozen=True)
class PumpFill:
    reservoir_ml: Decimal
    concentration: Decimal
    concentration_unit: str
    daily_dose: Decimal
    dose_unit: str

    def mg_per_ml(self) -> Decimal:
        return in_mg(self.concentration, self.concentration_unit)

    def mg_per_day(self) -> Decimal:
        return in_mg(self.daily_dose, self.dose_unit)

    def days_until(self, left_ml: Decimal = Decimal(0)) -> Decimal:
        """Days of delivery until only `left_ml` is left in the reservoir."""
        usable = max(self.reservoir_ml - left_ml, Decimal(0))
        return usable * self.mg_per_ml() / self.mg_per_day()


@dataclass(frozen=True)
class RefillDates:
    days_to_empty: Decimal
    empty_on: date
    refill_due: date
    alarm_on: date


def _whole_days(days: Decimal) -> timedelta:
    return timedelta(days=int(days.to_integral_value(rounding=ROUND_FLOOR)))


def refill_dates(
    fill: PumpFill, *, filled_on: date, margin_days: int, alarm_ml: Decimal
) -> RefillDates:
    days = fill.days_until()
    empty_on = filled_on + _whole_days(days)
    return RefillDates(
        days_to_empty=days,
        empty_on=empty_on,
        refill_due=empty_on - timedelta(days=margin_days),
        alarm_on=filled_on + _whole_days(fill.days_until(alarm_ml)),
    )


def pump_settings() -> tuple[int, Decimal]:
    """The safety margin (days) and the alarm volume (mL), as a manager set them."""
    values = dict(
        SafetyThreshold.objects.filter(key__in=(MARGIN_KEY, ALARM_KEY)).values_list("key", "value")
    )
    return int(values[MARGIN_KEY]), values[ALARM_KEY]


def _fill_of(fields: dict[str, Any]) -> PumpFill | None:
    """The fill when every pump field is given; None when none is (the model's constraint
    refuses a partial one)."""
    if not all(fields.get(name) for name in PUMP_FIELDS):
        return None
    fill = PumpFill(
        reservoir_ml=Decimal(fields["pump_reservoir_ml"]),
        concentration=Decimal(fields["pump_concentration"]),
        concentration_unit=str(fields["pump_concentration_unit"]),
        daily_dose=Decimal(fields["pump_daily_dose"]),
        dose_unit=str(fields["pump_dose_unit"]),
    )
    if min(fill.reservoir_ml, fill.concentration, fill.daily_dose) <= 0:
        return None
    return fill


def with_refill_dates(
    procedure_type: ProcedureType, fields: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The record's fields with its calculated refill and alarm dates, and field errors: a
    fill on anything but an intrathecal pump, a typed refill date besides a fill, or a fill
    that runs out within the safety margin."""
    if not any(fields.get(name) for name in PUMP_FIELDS):
        return fields, {}
    if procedure_type.family != "intrathecal":
        return fields, {"pump_reservoir_ml": ["Only an intrathecal pump is refilled."]}
    fill = _fill_of(fields)
    performed_at: datetime | None = fields.get("performed_at")
    location = fields.get("location")
    if fill is None or performed_at is None or location is None:
        return fields, {}  # the model's own checks name what is missing
    if fields.get("next_refill_due"):
        return fields, {"next_refill_due": [CALCULATED + " Leave this empty."]}
    margin, alarm_ml = pump_settings()
    dates = refill_dates(
        fill,
        filled_on=performed_at.astimezone(location.zone).date(),
        margin_days=margin,
        alarm_ml=alarm_ml,
    )
    if dates.refill_due <= performed_at.astimezone(location.zone).date():
        lasts = dates.days_to_empty.quantize(Decimal("0.1"))
        return fields, {
            "pump_daily_dose": [
                f"At this dose the reservoir lasts {lasts} days: not more than the "
                f"{margin}-day safety margin. Check the volume, concentration and dose."
            ]
        }
    return fields | {
        "next_refill_due": dates.refill_due,
        "pump_alarm_date": dates.alarm_on,
    }, {}
