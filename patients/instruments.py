"""Scoring for the outcome and screening instruments a pain clinic records.

Pure Python: no models, no database. Every function takes item answers as they
arrive from JSON and returns a ``Score`` (total, interpretation band, flags), or
raises ``InstrumentError`` listing every problem found, keyed by item.

Scoring rules and bands follow /work/shared/domain/instruments.md, which cites:

- NRS and PGIC: Farrar JT et al., Pain 2001;94:149-158 (clinically important
  change in the 0-10 pain scale; "much" or "very much" improved on the PGIC).
- ODI: Fairbank JC, Pynsent PB. The Oswestry Disability Index. Spine 2000;25:2940-2952.
- NDI: Vernon H, Mior S. The Neck Disability Index. J Manipulative Physiol Ther
  1991;14:409-415.
- PEG: Krebs EE et al. J Gen Intern Med 2009;24:733-738.
- PHQ-2 and PHQ-9: Arroll B et al. Ann Fam Med 2010;8:348-353.
- Opioid Risk Tool: Webster LR, Webster RM. Pain Med 2005;6:432-442.

Only item scores and short section names (in our own words) live here; the
instruments' item wording is the authors' and is not reproduced.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any, TypeVar

from django.db import models

__all__ = [
    "NDI_ITEMS",
    "NDI_MIN_ITEMS",
    "ODI_MIN_SECTIONS",
    "ODI_SECTIONS",
    "ORT_ITEMS",
    "ORT_POINTS",
    "PGIC_ANSWERS",
    "Instrument",
    "InstrumentError",
    "Score",
    "nrs_band",
    "percent_relief",
    "score",
]


class Instrument(models.TextChoices):
    NRS = "nrs", "NRS (numeric rating scale)"
    ODI = "odi", "Oswestry Disability Index"
    NDI = "ndi", "Neck Disability Index"
    PEG = "peg", "PEG (pain, enjoyment, general activity)"
    PGIC = "pgic", "Patient Global Impression of Change"
    PHQ2 = "phq2", "PHQ-2"
    PHQ9 = "phq9", "PHQ-9"
    ORT = "ort", "Opioid Risk Tool"


@dataclass(frozen=True)
class Score:
    total: Decimal
    band: str
    band_label: str
    flags: tuple[str, ...]
    percent: Decimal | None = None


class InstrumentError(ValueError):
    """Every problem with one set of answers, keyed by item (or "instrument", "age", "items")."""

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = {key: list(messages) for key, messages in fields.items()}
        # Keep the dict as the only arg so the exception survives pickling.
        super().__init__(self.fields)

    def __str__(self) -> str:
        return "; ".join(
            f"{key}: {message}" for key, messages in self.fields.items() for message in messages
        )


# Section and item names are short descriptions of each topic, not the licensed wording.
ODI_SECTIONS: tuple[tuple[str, str], ...] = (
    ("s1", "Pain intensity"),
    ("s2", "Personal care"),
    ("s3", "Lifting"),
    ("s4", "Walking"),
    ("s5", "Sitting"),
    ("s6", "Standing"),
    ("s7", "Sleeping"),
    ("s8", "Sex life"),
    ("s9", "Social life"),
    ("s10", "Travelling"),
)

NDI_ITEMS: tuple[tuple[str, str], ...] = (
    ("i1", "Pain intensity"),
    ("i2", "Personal care"),
    ("i3", "Lifting"),
    ("i4", "Reading"),
    ("i5", "Headaches"),
    ("i6", "Concentration"),
    ("i7", "Work"),
    ("i8", "Driving"),
    ("i9", "Sleeping"),
    ("i10", "Recreation"),
)

PEG_ITEMS: tuple[tuple[str, str], ...] = (
    ("pain", "Average pain"),
    ("enjoyment", "Interference with enjoyment of life"),
    ("activity", "Interference with general activity"),
)

# answer -> (band code, label)
PGIC_ANSWERS: dict[int, tuple[str, str]] = {
    1: ("very_much_improved", "Very much improved"),
    2: ("much_improved", "Much improved"),
    3: ("minimally_improved", "Minimally improved"),
    4: ("no_change", "No change"),
    5: ("minimally_worse", "Minimally worse"),
    6: ("much_worse", "Much worse"),
    7: ("very_much_worse", "Very much worse"),
}

ORT_ITEMS: tuple[tuple[str, str], ...] = (
    ("family_alcohol", "Family history of alcohol misuse"),
    ("family_illegal_drugs", "Family history of illegal drug misuse"),
    ("family_prescription_drugs", "Family history of prescription drug misuse"),
    ("personal_alcohol", "Personal history of alcohol misuse"),
    ("personal_illegal_drugs", "Personal history of illegal drug misuse"),
    ("personal_prescription_drugs", "Personal history of prescription drug misuse"),
    ("preadolescent_sexual_abuse", "History of preadolescent sexual abuse"),
    ("psychological_disease", "ADD, OCD, bipolar disorder or schizophrenia"),
    ("depression", "Depression"),
)

# item -> (points if female, points if male); Webster 2005.
ORT_POINTS: dict[str, tuple[int, int]] = {
    "family_alcohol": (1, 3),
    "family_illegal_drugs": (2, 3),
    "family_prescription_drugs": (4, 4),
    "personal_alcohol": (3, 3),
    "personal_illegal_drugs": (4, 4),
    "personal_prescription_drugs": (5, 5),
    "preadolescent_sexual_abuse": (3, 0),
    "psychological_disease": (2, 2),
    "depression": (1, 1),
}
ORT_AGE_POINTS = 1
ORT_AGE_RANGE = (16, 45)  # inclusive

PHQ2_POSITIVE_AT = 3

# Bands as (code, label, upper bound inclusive); the first band whose bound
# is >= the total applies.
NRS_BANDS = (
    ("none", "None (0)", 0),
    ("mild", "Mild (1-3)", 3),
    ("moderate", "Moderate (4-6)", 6),
    ("severe", "Severe (7-10)", 10),
)
ODI_BANDS = (
    ("minimal", "Minimal disability (0-20%)", 20),
    ("moderate", "Moderate disability (21-40%)", 40),
    ("severe", "Severe disability (41-60%)", 60),
    ("crippled", "Crippling disability (61-80%)", 80),
    ("bed_bound", "Bed-bound or exaggerating (81-100%)", 100),
)
NDI_BANDS = (
    ("none", "No disability (0-4)", 4),
    ("mild", "Mild disability (5-14)", 14),
    ("moderate", "Moderate disability (15-24)", 24),
    ("severe", "Severe disability (25-34)", 34),
    ("complete", "Complete disability (35-50)", 50),
)
PHQ9_BANDS = (
    ("minimal", "Minimal or no depression (0-4)", 4),
    ("mild", "Mild depression (5-9)", 9),
    ("moderate", "Moderate depression (10-14)", 14),
    ("moderately_severe", "Moderately severe depression (15-19)", 19),
    ("severe", "Severe depression (20-27)", 27),
)
PHQ2_BANDS = (
    ("negative", "Negative screen (0-2)", PHQ2_POSITIVE_AT - 1),
    ("positive", "Positive screen (3-6): follow with PHQ-9", 6),
)
ORT_BANDS = (
    ("low", "Low risk (0-3)", 3),
    ("moderate", "Moderate risk (4-7)", 7),
    ("high", "High risk (8 or more)", math.inf),
)

_CONTEXT = Context(prec=28, rounding=ROUND_HALF_UP)
_ONE_PLACE = Decimal("0.1")
_TWO_PLACES = Decimal("0.01")
_MISSING = object()


def _band(bands, total) -> tuple[str, str]:
    for code, label, upper in bands:
        if total <= upper:
            return code, label
    raise AssertionError(f"total {total} is beyond the last band")  # pragma: no cover


_T = TypeVar("_T")


def _checked(value: _T | None) -> _T:
    """An answer after raise_if_any, which has already refused every missing or invalid one."""
    if value is None:  # pragma: no cover
        raise AssertionError("an answer the checker refused reached the scoring")
    return value


def _whole_number(value: Any) -> int | None:
    """The integer a JSON answer stands for, or None if it is not a whole number.

    Booleans are refused (True is not 1 here); 2.0 and Decimal("2") are accepted
    because they are the same number as 2; strings are refused.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        finite = value.is_finite()
    elif isinstance(value, float):
        finite = math.isfinite(value)
    else:
        return None
    if not finite or value != int(value):
        return None
    return int(value)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f'the text "{value}"'
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no answer)"
    return repr(value) if not isinstance(value, int | float | Decimal) else str(value)


class _Checker:
    """Collects problems item by item, so that all of them can be raised at once."""

    def __init__(self, name: str, items: Any):
        self.name = name
        self.errors: dict[str, list[str]] = {}
        if not isinstance(items, Mapping):
            self.add("items", f"Answers must be an object of item: answer; got {_describe(items)}.")
            items = {}
        self.items: Mapping = items

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(str(key), []).append(message)

    def unknown_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.items:
            if key not in allowed:
                self.add(
                    key,
                    f"{key} is not an item of the {self.name}; expected only {', '.join(allowed)}.",
                )

    def integer(
        self, key: str, low: int, high: int, *, label: str, optional: bool = False
    ) -> int | None:
        value = self.items.get(key, _MISSING)
        if value is _MISSING or value is None:
            if not optional:
                self.add(key, f"{label} is required ({low} to {high}); it has no answer.")
            return None
        number = _whole_number(value)
        if number is None:
            self.add(
                key, f"{label} must be a whole number from {low} to {high}; got {_describe(value)}."
            )
            return None
        if not low <= number <= high:
            self.add(key, f"{label} is {low} to {high}; got {number}.")
            return None
        return number

    def boolean(self, key: str, *, label: str) -> bool | None:
        value = self.items.get(key, _MISSING)
        if value is _MISSING or value is None:
            self.add(key, f"{label} is required (true or false); it has no answer.")
            return None
        if not isinstance(value, bool):
            self.add(key, f"{label} must be true or false; got {_describe(value)}.")
            return None
        return value

    def raise_if_any(self) -> None:
        if self.errors:
            raise InstrumentError(self.errors)


def _keys(pairs: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(key for key, _ in pairs)


def _score_nrs(items: Any, **_: Any) -> Score:
    check = _Checker("NRS", items)
    check.unknown_keys(("score",))
    value = check.integer("score", 0, 10, label="NRS")
    check.raise_if_any()
    value = _checked(value)
    code, label = _band(NRS_BANDS, value)
    return Score(total=Decimal(value), band=code, band_label=label, flags=())


# The published ODI scoring (Fairbank 2000; instruments.md) leaves a missed or not
# applicable section out of the denominator, and describes that for ONE section: 9 of 10
# answered is the least it scores. Fewer is not scored (1 of 10 would read "bed-bound").
ODI_MIN_SECTIONS = 9
# The NDI (Vernon 1991; instruments.md) is a total of all 10 items, 0-50: no missing item.
NDI_MIN_ITEMS = len(NDI_ITEMS)


def _too_few_odi(answered: int) -> str:
    return (
        f"Not scored: {answered} of {len(ODI_SECTIONS)} ODI sections answered. The published "
        f"scoring (Fairbank 2000) leaves out at most one missed section, so at least "
        f"{ODI_MIN_SECTIONS} are needed."
    )


def _too_few_ndi(answered: int) -> str:
    return (
        f"Not scored: {answered} of {len(NDI_ITEMS)} NDI items answered. The NDI is the total "
        f"of all {NDI_MIN_ITEMS} items, 0-50 (Vernon 1991), so every item is needed."
    )


def _score_odi(items: Any, **_: Any) -> Score:
    check = _Checker("Oswestry Disability Index", items)
    check.unknown_keys(_keys(ODI_SECTIONS))
    answers = [
        check.integer(key, 0, 5, label=f"ODI section {key} ({name.lower()})", optional=True)
        for key, name in ODI_SECTIONS
    ]
    answered = [key for key, _ in ODI_SECTIONS if check.items.get(key) is not None]
    if len(answered) < ODI_MIN_SECTIONS and not check.errors:
        check.add("items", _too_few_odi(len(answered)))
    check.raise_if_any()
    values = [value for value in answers if value is not None]
    with localcontext(_CONTEXT):
        percent = (Decimal(sum(values)) * 100 / (5 * len(values))).quantize(
            _ONE_PLACE, rounding=ROUND_HALF_UP
        )
    code, label = _band(ODI_BANDS, percent)
    return Score(total=percent, band=code, band_label=label, flags=(), percent=percent)


def _score_ndi(items: Any, **_: Any) -> Score:
    check = _Checker("Neck Disability Index", items)
    check.unknown_keys(_keys(NDI_ITEMS))
    answers = [
        check.integer(key, 0, 5, label=f"NDI item {key} ({name.lower()})")
        for key, name in NDI_ITEMS
    ]
    answered = [key for key, _ in NDI_ITEMS if check.items.get(key) is not None]
    if len(answered) < NDI_MIN_ITEMS:
        check.add("items", _too_few_ndi(len(answered)))
    check.raise_if_any()
    total = sum(_checked(answer) for answer in answers)
    code, label = _band(NDI_BANDS, total)
    return Score(
        total=Decimal(total), band=code, band_label=label, flags=(), percent=Decimal(total * 2)
    )


def _score_peg(items: Any, **_: Any) -> Score:
    check = _Checker("PEG", items)
    check.unknown_keys(_keys(PEG_ITEMS))
    answers = [check.integer(key, 0, 10, label=f"PEG {key}") for key, _ in PEG_ITEMS]
    check.raise_if_any()
    total = sum(_checked(answer) for answer in answers)
    with localcontext(_CONTEXT):
        mean = (Decimal(total) / len(answers)).quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)
    return Score(total=mean, band="", band_label="", flags=())


def _score_pgic(items: Any, **_: Any) -> Score:
    check = _Checker("PGIC", items)
    check.unknown_keys(("change",))
    value = check.integer("change", 1, 7, label="PGIC")
    check.raise_if_any()
    value = _checked(value)
    code, label = PGIC_ANSWERS[value]
    flags = ("pgic_important_improvement",) if value <= 2 else ()
    return Score(total=Decimal(value), band=code, band_label=label, flags=flags)


def _score_phq2(items: Any, **_: Any) -> Score:
    check = _Checker("PHQ-2", items)
    keys = ("q1", "q2")
    check.unknown_keys(keys)
    answers = [check.integer(key, 0, 3, label=f"PHQ-2 {key}") for key in keys]
    check.raise_if_any()
    total = sum(_checked(answer) for answer in answers)
    code, label = _band(PHQ2_BANDS, total)
    flags = ("phq2_positive",) if total >= PHQ2_POSITIVE_AT else ()
    return Score(total=Decimal(total), band=code, band_label=label, flags=flags)


def _score_phq9(items: Any, **_: Any) -> Score:
    check = _Checker("PHQ-9", items)
    keys = tuple(f"q{n}" for n in range(1, 10))
    check.unknown_keys(keys)
    answers = [check.integer(key, 0, 3, label=f"PHQ-9 {key}") for key in keys]
    check.raise_if_any()
    scores = [_checked(answer) for answer in answers]
    total = sum(scores)
    code, label = _band(PHQ9_BANDS, total)
    flags = ("phq9_item9_positive",) if scores[8] > 0 else ()
    return Score(total=Decimal(total), band=code, band_label=label, flags=flags)


def _score_ort(items: Any, *, sex: str | None, age: int | None) -> Score:
    check = _Checker("Opioid Risk Tool", items)
    check.unknown_keys(_keys(ORT_ITEMS))
    answers = {key: check.boolean(key, label=f"ORT {key}") for key, _ in ORT_ITEMS}
    years = None
    if age is None:
        check.add("age", "Age is required to score the Opioid Risk Tool.")
    else:
        years = _whole_number(age)
        if years is None or years < 0:
            check.add("age", f"Age must be a whole number of years, 0 or more; got {age!r}.")
    check.raise_if_any()
    years = _checked(years)

    flags: tuple[str, ...] = ()
    if sex == "female":
        points = {key: female for key, (female, _) in ORT_POINTS.items()}
    elif sex == "male":
        points = {key: male for key, (_, male) in ORT_POINTS.items()}
    else:
        points = {key: max(pair) for key, pair in ORT_POINTS.items()}
        flags = ("ort_sex_unknown_max_points",)
    total = sum(points[key] for key, yes in answers.items() if yes)
    low, high = ORT_AGE_RANGE
    if low <= years <= high:
        total += ORT_AGE_POINTS
    code, label = _band(ORT_BANDS, total)
    return Score(total=Decimal(total), band=code, band_label=label, flags=flags)


_SCORERS: dict[str, Callable[..., Score]] = {
    Instrument.NRS: _score_nrs,
    Instrument.ODI: _score_odi,
    Instrument.NDI: _score_ndi,
    Instrument.PEG: _score_peg,
    Instrument.PGIC: _score_pgic,
    Instrument.PHQ2: _score_phq2,
    Instrument.PHQ9: _score_phq9,
    Instrument.ORT: _score_ort,
}


def score(instrument: str, items: dict, *, sex: str | None = None, age: int | None = None) -> Score:
    """Score one completed instrument.

    ``sex`` and ``age`` are used only by the Opioid Risk Tool; other instruments ignore them.
    Raises InstrumentError with every problem in ``items`` at once.
    """
    scorer = _SCORERS.get(instrument) if isinstance(instrument, str) else None
    if scorer is None:
        raise InstrumentError(
            {
                "instrument": [
                    f"Unknown instrument {instrument!r}; expected one of "
                    f"{', '.join(Instrument.values)}."
                ]
            }
        )
    return scorer(items, sex=sex, age=age)


def _relief_operand(key: str, value: Any, errors: dict[str, list[str]]) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        errors[key] = [f"{key} must be a number; got {_describe(value)}."]
        return None
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite() or number < 0:
        errors[key] = [f"{key} must be a finite number, 0 or more; got {value}."]
        return None
    return number


def percent_relief(baseline: int | Decimal, follow_up: int | Decimal) -> Decimal | None:
    """(baseline - follow-up) / baseline x 100, rounded half-up to 1 decimal.

    None when the baseline is 0 (relief is undefined); negative when the pain got worse.
    """
    errors: dict[str, list[str]] = {}
    before = _relief_operand("baseline", baseline, errors)
    after = _relief_operand("follow_up", follow_up, errors)
    if errors:
        raise InstrumentError(errors)
    before, after = _checked(before), _checked(after)
    if before == 0:
        return None
    with localcontext(_CONTEXT):
        relief = (before - after) * 100 / before
        return relief.quantize(_ONE_PLACE, rounding=ROUND_HALF_UP)


def nrs_band(value) -> str:
    """The band code of a single 0-10 NRS rating: none, mild, moderate or severe."""
    check = _Checker("NRS", {"score": value})
    number = check.integer("score", 0, 10, label="NRS")
    check.raise_if_any()
    return _band(NRS_BANDS, number)[0]
