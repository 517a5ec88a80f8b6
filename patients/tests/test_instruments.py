"""Hand-worked examples for patients.instruments (no database needed)."""

import pickle
from dataclasses import FrozenInstanceError
from decimal import Decimal

import pytest

from patients.instruments import (
    NDI_ITEMS,
    ODI_SECTIONS,
    ORT_POINTS,
    Instrument,
    InstrumentError,
    Score,
    nrs_band,
    percent_relief,
    score,
)

D = Decimal


def odi(*values):
    """ODI answers s1..s10 in order; None = section skipped."""
    return {f"s{n}": value for n, value in enumerate(values, start=1)}


def ndi(*values):
    return {f"i{n}": value for n, value in enumerate(values, start=1)}


def phq9(*values):
    return {f"q{n}": value for n, value in enumerate(values, start=1)}


ORT_NONE = {key: False for key in ORT_POINTS}


def ort(**yes):
    return {**ORT_NONE, **dict.fromkeys(yes, True)}


def fields_of(instrument, items, **kwargs):
    with pytest.raises(InstrumentError) as caught:
        score(instrument, items, **kwargs)
    return caught.value.fields


# --- Instrument and constants ---------------------------------------------------------------


def test_instrument_choices_are_the_eight_codes():
    assert Instrument.values == ["nrs", "odi", "ndi", "peg", "pgic", "phq2", "phq9", "ort"]
    assert Instrument.ODI.label == "Oswestry Disability Index"


def test_odi_sections_and_ndi_items_are_named_in_order():
    assert [key for key, _ in ODI_SECTIONS] == [f"s{n}" for n in range(1, 11)]
    assert dict(ODI_SECTIONS)["s8"] == "Sex life"
    assert dict(ODI_SECTIONS)["s10"] == "Travelling"
    assert [key for key, _ in NDI_ITEMS] == [f"i{n}" for n in range(1, 11)]
    assert dict(NDI_ITEMS)["i4"] == "Reading"
    assert dict(NDI_ITEMS)["i10"] == "Recreation"


def test_score_accepts_the_enum_member_or_its_value():
    assert score(Instrument.NRS, {"score": 5}) == score("nrs", {"score": 5})


def test_score_is_frozen():
    result = score("nrs", {"score": 5})
    assert isinstance(result, Score)
    with pytest.raises(FrozenInstanceError):
        result.total = D(1)


# --- NRS ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0, "none"),
        (1, "mild"),
        (3, "mild"),
        (4, "moderate"),
        (6, "moderate"),
        (7, "severe"),
        (10, "severe"),
    ],
)
def test_nrs_bands_at_every_edge(value, band):
    result = score("nrs", {"score": value})
    assert result.total == D(value)
    assert result.band == band
    assert result.band_label
    assert result.flags == ()
    assert result.percent is None
    assert nrs_band(value) == band


def test_nrs_label_names_the_range():
    assert score("nrs", {"score": 5}).band_label == "Moderate (4-6)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (11, "NRS is 0 to 10; got 11."),
        (-1, "NRS is 0 to 10; got -1."),
        (2.5, "NRS must be a whole number from 0 to 10; got 2.5."),
        ("5", 'NRS must be a whole number from 0 to 10; got the text "5".'),
        (True, "NRS must be a whole number from 0 to 10; got true (a yes/no answer)."),
        (None, "NRS is required (0 to 10); it has no answer."),
    ],
)
def test_nrs_refuses_bad_values(value, message):
    assert fields_of("nrs", {"score": value}) == {"score": [message]}
    with pytest.raises(InstrumentError) as caught:
        nrs_band(value)
    assert caught.value.fields == {"score": [message]}


def test_nrs_missing_and_unknown_keys_are_reported_together():
    fields = fields_of("nrs", {"pain": 5})
    assert set(fields) == {"score", "pain"}
    assert "not an item of the NRS" in fields["pain"][0]


@pytest.mark.parametrize("value", [3.0, D("3"), D("3.00")])
def test_integral_floats_and_decimals_count_as_whole_numbers(value):
    assert score("nrs", {"score": value}).total == D(3)
    assert nrs_band(value) == "mild"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), D("NaN"), D("Infinity")])
def test_non_finite_numbers_are_refused(value):
    assert "score" in fields_of("nrs", {"score": value})


# --- ODI ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        # sex life skipped: 17 / (5 x 9) x 100 = 37.777... -> 37.8
        ((3, 2, 2, 1, 3, 2, 1, None, 2, 1), "37.8", "moderate"),
        # all ten answered: percent = sum x 2
        ((0, 0, 0, 0, 0, 0, 0, 0, 0, 0), "0.0", "minimal"),
        ((1, 1, 1, 1, 1, 1, 1, 1, 1, 1), "20.0", "minimal"),  # 10/50
        ((2, 1, 1, 1, 1, 1, 1, 1, 1, 1), "22.0", "moderate"),  # 11/50, next step above 20
        ((2, 2, 2, 2, 2, 2, 2, 2, 2, 2), "40.0", "moderate"),  # 20/50
        ((3, 2, 2, 2, 2, 2, 2, 2, 2, 2), "42.0", "severe"),  # 21/50
        ((3, 3, 3, 3, 3, 3, 3, 3, 3, 3), "60.0", "severe"),  # 30/50
        ((4, 3, 3, 3, 3, 3, 3, 3, 3, 3), "62.0", "crippled"),  # 31/50
        ((4, 4, 4, 4, 4, 4, 4, 4, 4, 4), "80.0", "crippled"),  # 40/50
        ((5, 4, 4, 4, 4, 4, 4, 4, 4, 4), "82.0", "bed_bound"),  # 41/50
        ((5, 5, 5, 5, 5, 5, 5, 5, 5, 5), "100.0", "bed_bound"),  # 50/50
        # nine sections: 9/45 = 20.0, 10/45 = 22.222... -> 22.2
        ((1, 1, 1, 1, 1, 1, 1, None, 1, 1), "20.0", "minimal"),
        ((2, 1, 1, 1, 1, 1, 1, None, 1, 1), "22.2", "moderate"),
        # nine sections, 1/45 = 2.222... rounds down to 2.2
        ((1, 0, 0, 0, 0, 0, 0, None, 0, 0), "2.2", "minimal"),
    ],
)
def test_odi_worked_examples(answers, total, band):
    result = score("odi", odi(*answers))
    assert result.total == D(total)
    assert str(result.total) == total
    assert result.percent == result.total
    assert result.band == band
    assert result.flags == ()


def test_odi_missing_section_is_the_same_as_a_skipped_one():
    skipped = odi(3, 2, 2, 1, 3, 2, 1, None, 2, 1)
    missing = {key: value for key, value in skipped.items() if value is not None}
    assert "s8" not in missing
    assert score("odi", missing) == score("odi", skipped)


def test_odi_labels():
    assert score("odi", odi(3, 2, 2, 1, 3, 2, 1, None, 2, 1)).band_label == (
        "Moderate disability (21-40%)"
    )


ODI_TOO_FEW = (
    "Not scored: {n} of 10 ODI sections answered. The published scoring (Fairbank 2000) "
    "leaves out at most one missed section, so at least 9 are needed."
)


@pytest.mark.parametrize(
    ("items", "answered"),
    [
        ({}, 0),
        (odi(*[None] * 10), 0),
        # One section of ten used to score 100% "bed-bound" (issue 14).
        (odi(5, None, None, None, None, None, None, None, None, None), 1),
        (odi(1, 0, 0, None, None, None, None, None, None, None), 3),
        (odi(1, 1, 1, 1, 1, 1, 1, 1, None, None), 8),
    ],
)
def test_odi_with_too_few_sections_is_not_scored_and_says_why(items, answered):
    assert fields_of("odi", items) == {"items": [ODI_TOO_FEW.format(n=answered)]}


def test_odi_scores_from_nine_sections():
    assert score("odi", odi(1, 1, 1, 1, 1, 1, 1, 1, 1, None)).total == D("20.0")


ODI_S1 = "ODI section s1 (pain intensity)"
ODI_S1_WHOLE = f"{ODI_S1} must be a whole number from 0 to 5; got"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (6, f"{ODI_S1} is 0 to 5; got 6."),
        (-1, f"{ODI_S1} is 0 to 5; got -1."),
        ("3", f'{ODI_S1_WHOLE} the text "3".'),
        (True, f"{ODI_S1_WHOLE} true (a yes/no answer)."),
        (2.5, f"{ODI_S1_WHOLE} 2.5."),
    ],
)
def test_odi_refuses_bad_section_values(value, message):
    assert fields_of("odi", {"s1": value, "s2": 1}) == {"s1": [message]}


def test_odi_collects_every_problem_before_raising():
    fields = fields_of("odi", {"s1": 6, "s2": "x", "s3": False, "s11": 1, "s4": 2})
    assert set(fields) == {"s1", "s2", "s3", "s11"}
    assert fields["s11"] == [
        "s11 is not an item of the Oswestry Disability Index; "
        "expected only s1, s2, s3, s4, s5, s6, s7, s8, s9, s10."
    ]


def test_an_invalid_only_answer_is_not_also_reported_as_unanswered():
    assert set(fields_of("odi", {"s1": 6})) == {"s1"}


# --- NDI ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ((3, 2, 1, 2, 3, 1, 2, 0, 2, 1), 17, "moderate"),
        ((0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "none"),
        ((1, 1, 1, 1, 0, 0, 0, 0, 0, 0), 4, "none"),
        ((1, 1, 1, 1, 1, 0, 0, 0, 0, 0), 5, "mild"),
        ((2, 2, 1, 1, 1, 1, 1, 1, 2, 2), 14, "mild"),
        ((2, 2, 2, 1, 1, 1, 1, 1, 2, 2), 15, "moderate"),
        ((3, 3, 3, 3, 2, 2, 2, 2, 2, 2), 24, "moderate"),
        ((3, 3, 3, 3, 3, 2, 2, 2, 2, 2), 25, "severe"),
        ((4, 4, 4, 4, 3, 3, 3, 3, 3, 3), 34, "severe"),
        ((4, 4, 4, 4, 4, 3, 3, 3, 3, 3), 35, "complete"),
        ((5, 5, 5, 5, 5, 5, 5, 5, 5, 5), 50, "complete"),
    ],
)
def test_ndi_worked_examples(answers, total, band):
    assert sum(answers) == total  # the example itself is right
    result = score("ndi", ndi(*answers))
    assert result.total == D(total)
    assert result.percent == D(total * 2)
    assert result.band == band
    assert result.flags == ()


def test_ndi_labels():
    assert score("ndi", ndi(*[0] * 10)).band_label == "No disability (0-4)"
    assert score("ndi", ndi(*[5] * 10)).band_label == "Complete disability (35-50)"


def test_ndi_needs_all_ten_items():
    items = ndi(3, 2, 1, 2, 3, 1, 2, 0, 2, None)
    del items["i5"]
    assert fields_of("ndi", items) == {
        "i5": ["NDI item i5 (headaches) is required (0 to 5); it has no answer."],
        "i10": ["NDI item i10 (recreation) is required (0 to 5); it has no answer."],
        "items": [
            "Not scored: 8 of 10 NDI items answered. The NDI is the total of all 10 items, "
            "0-50 (Vernon 1991), so every item is needed."
        ],
    }


@pytest.mark.parametrize("value", [6, -1, "2", True, 2.5])
def test_ndi_refuses_bad_values(value):
    items = ndi(*[1] * 10) | {"i3": value}
    assert set(fields_of("ndi", items)) == {"i3"}


def test_ndi_refuses_unknown_keys():
    assert set(fields_of("ndi", ndi(*[1] * 10) | {"s1": 1})) == {"s1"}


# --- PEG ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pain", "enjoyment", "activity", "mean"),
    [
        (7, 6, 5, "6.00"),  # 18 / 3
        (7, 5, 5, "5.67"),  # 17 / 3 = 5.666...
        (2, 2, 1, "1.67"),  # 5 / 3 = 1.666...
        (1, 0, 0, "0.33"),  # 1 / 3 = 0.333...
        (0, 0, 0, "0.00"),
        (10, 10, 10, "10.00"),
        (10, 10, 9, "9.67"),  # 29 / 3
        (4, 4, 5, "4.33"),  # 13 / 3
    ],
)
def test_peg_is_the_mean_to_two_decimals(pain, enjoyment, activity, mean):
    result = score("peg", {"pain": pain, "enjoyment": enjoyment, "activity": activity})
    assert str(result.total) == mean
    assert result.band == ""
    assert result.band_label == ""
    assert result.flags == ()
    assert result.percent is None


@pytest.mark.parametrize(
    ("items", "bad"),
    [
        ({"pain": 11, "enjoyment": 5, "activity": 5}, {"pain"}),
        ({"pain": 5, "enjoyment": -1, "activity": 5}, {"enjoyment"}),
        ({"pain": 5, "enjoyment": 5}, {"activity"}),
        ({"pain": 5, "enjoyment": 5, "activity": 5, "mood": 3}, {"mood"}),
        ({"pain": "5", "enjoyment": 2.5, "activity": False}, {"pain", "enjoyment", "activity"}),
    ],
)
def test_peg_refuses_bad_answers(items, bad):
    assert set(fields_of("peg", items)) == bad


# --- PGIC -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "band", "flags"),
    [
        (1, "very_much_improved", ("pgic_important_improvement",)),
        (2, "much_improved", ("pgic_important_improvement",)),
        (3, "minimally_improved", ()),
        (4, "no_change", ()),
        (5, "minimally_worse", ()),
        (6, "much_worse", ()),
        (7, "very_much_worse", ()),
    ],
)
def test_pgic_band_is_the_answer(change, band, flags):
    result = score("pgic", {"change": change})
    assert result.total == D(change)
    assert result.band == band
    assert result.flags == flags
    assert result.band_label


@pytest.mark.parametrize("value", [0, 8, "2", True, 1.5, None])
def test_pgic_refuses_bad_answers(value):
    assert set(fields_of("pgic", {"change": value})) == {"change"}


def test_pgic_out_of_range_message():
    assert fields_of("pgic", {"change": 8}) == {"change": ["PGIC is 1 to 7; got 8."]}


# --- PHQ-2 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q1", "q2", "total", "band", "flags"),
    [
        (0, 0, 0, "negative", ()),
        (1, 1, 2, "negative", ()),
        (2, 0, 2, "negative", ()),
        (2, 1, 3, "positive", ("phq2_positive",)),
        (0, 3, 3, "positive", ("phq2_positive",)),
        (3, 3, 6, "positive", ("phq2_positive",)),
    ],
)
def test_phq2_positive_from_three(q1, q2, total, band, flags):
    result = score("phq2", {"q1": q1, "q2": q2})
    assert result.total == D(total)
    assert result.band == band
    assert result.flags == flags


@pytest.mark.parametrize(
    ("items", "bad"),
    [
        ({"q1": 4, "q2": 0}, {"q1"}),
        ({"q1": 0, "q2": -1}, {"q2"}),
        ({"q1": 1}, {"q2"}),
        ({"q1": 1, "q2": 1, "q3": 1}, {"q3"}),
        ({"q1": True, "q2": "1"}, {"q1", "q2"}),
    ],
)
def test_phq2_refuses_bad_answers(items, bad):
    assert set(fields_of("phq2", items)) == bad


# --- PHQ-9 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ((0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "minimal"),
        ((1, 1, 1, 1, 0, 0, 0, 0, 0), 4, "minimal"),
        ((1, 1, 1, 1, 1, 0, 0, 0, 0), 5, "mild"),
        ((2, 2, 1, 1, 1, 1, 1, 0, 0), 9, "mild"),
        ((2, 2, 2, 1, 1, 1, 1, 0, 0), 10, "moderate"),
        ((2, 2, 2, 2, 2, 2, 2, 0, 0), 14, "moderate"),
        ((2, 2, 2, 2, 2, 2, 2, 1, 0), 15, "moderately_severe"),
        ((3, 3, 3, 2, 2, 2, 2, 2, 0), 19, "moderately_severe"),
        ((3, 3, 3, 3, 2, 2, 2, 2, 0), 20, "severe"),
        ((3, 3, 3, 3, 3, 3, 3, 3, 0), 24, "severe"),
    ],
)
def test_phq9_bands_at_every_edge(answers, total, band):
    assert sum(answers) == total
    result = score("phq9", phq9(*answers))
    assert result.total == D(total)
    assert result.band == band
    assert result.flags == ()


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ((0, 0, 0, 0, 0, 0, 0, 0, 1), 1, "minimal"),  # low total still flags item 9
        ((1, 1, 1, 1, 1, 0, 0, 0, 2), 7, "mild"),
        ((3, 3, 3, 3, 3, 3, 3, 3, 3), 27, "severe"),
    ],
)
def test_phq9_item9_above_zero_is_flagged(answers, total, band):
    result = score("phq9", phq9(*answers))
    assert result.total == D(total)
    assert result.band == band
    assert result.flags == ("phq9_item9_positive",)


def test_phq9_labels():
    assert score("phq9", phq9(*[2] * 8, 0)).band_label == ("Moderately severe depression (15-19)")


def test_phq9_missing_item_is_reported():
    items = phq9(1, 1, 1, 1, 1, 1, 1, 1, 1)
    del items["q9"]
    assert fields_of("phq9", items) == {"q9": ["PHQ-9 q9 is required (0 to 3); it has no answer."]}


@pytest.mark.parametrize(
    ("items", "bad"),
    [
        (phq9(4, 0, 0, 0, 0, 0, 0, 0, 0), {"q1"}),
        (phq9(0, 0, 0, 0, 0, 0, 0, 0, -1), {"q9"}),
        (phq9(0, 0, "1", 0, 0, 0, 0, 0, 0), {"q3"}),
        (phq9(0, 0, 0, True, 0, 0, 0, 0, 0), {"q4"}),
        (phq9(0, 0, 0, 0, 2.5, 0, 0, 0, 0), {"q5"}),
        (phq9(0, 0, 0, 0, 0, 0, 0, 0, 0) | {"q10": 1}, {"q10"}),
        (phq9(9, 0, 0, 0, 0) | {"item9": 1}, {"q1", "q6", "q7", "q8", "q9", "item9"}),
    ],
)
def test_phq9_refuses_bad_answers(items, bad):
    assert set(fields_of("phq9", items)) == bad


# --- Opioid Risk Tool -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "total", "band", "flags"),
    [
        # family alcohol + preadolescent sexual abuse, age 50 (no age point)
        ("female", 4, "moderate", ()),  # 1 + 3
        ("male", 3, "low", ()),  # 3 + 0
        (None, 6, "moderate", ("ort_sex_unknown_max_points",)),  # 3 + 3
        ("unknown", 6, "moderate", ("ort_sex_unknown_max_points",)),
        ("other", 6, "moderate", ("ort_sex_unknown_max_points",)),
        ("Female", 6, "moderate", ("ort_sex_unknown_max_points",)),  # codes are exact
    ],
)
def test_ort_same_answers_by_sex(sex, total, band, flags):
    items = ort(family_alcohol=True, preadolescent_sexual_abuse=True)
    result = score("ort", items, sex=sex, age=50)
    assert result.total == D(total)
    assert result.band == band
    assert result.flags == flags
    assert result.percent is None


@pytest.mark.parametrize(
    ("sex", "total"),
    [
        # everything yes, age 30: 1+2+4+3+4+5+1+3+2+1 / 3+3+4+3+4+5+1+0+2+1 / max of each
        ("female", 26),
        ("male", 26),
        (None, 29),
    ],
)
def test_ort_everything_yes(sex, total):
    items = dict.fromkeys(ORT_POINTS, True)
    result = score("ort", items, sex=sex, age=30)
    assert result.total == D(total)
    assert result.band == "high"


@pytest.mark.parametrize(
    ("sex", "yes", "age", "total", "band"),
    [
        ("female", {}, 50, 0, "low"),
        ("female", {"personal_alcohol"}, 50, 3, "low"),
        ("female", {"personal_alcohol", "depression"}, 50, 4, "moderate"),
        ("male", {"personal_prescription_drugs", "psychological_disease"}, 50, 7, "moderate"),
        ("male", {"personal_prescription_drugs", "family_alcohol"}, 50, 8, "high"),
        ("male", {"personal_prescription_drugs", "psychological_disease"}, 45, 8, "high"),
        ("female", {"family_illegal_drugs"}, 30, 3, "low"),  # 2 + age point
        ("male", {"family_illegal_drugs"}, 30, 4, "moderate"),  # 3 + age point
    ],
)
def test_ort_band_edges(sex, yes, age, total, band):
    result = score("ort", ort(**dict.fromkeys(yes, True)), sex=sex, age=age)
    assert result.total == D(total)
    assert result.band == band


@pytest.mark.parametrize(
    ("age", "points"), [(0, 0), (15, 0), (16, 1), (30, 1), (45, 1), (46, 0), (90, 0)]
)
def test_ort_age_point_is_16_to_45_inclusive(age, points):
    for sex in ("female", "male", None):
        assert score("ort", ORT_NONE, sex=sex, age=age).total == D(points)


def test_ort_labels():
    assert score("ort", ORT_NONE, sex="male", age=60).band_label == "Low risk (0-3)"
    high = score("ort", dict.fromkeys(ORT_POINTS, True), sex="male", age=60)
    assert high.band_label == "High risk (8 or more)"


def test_ort_needs_an_age():
    assert fields_of("ort", ORT_NONE, sex="female") == {
        "age": ["Age is required to score the Opioid Risk Tool."]
    }


@pytest.mark.parametrize("age", [-1, "30", True, 30.5])
def test_ort_refuses_a_bad_age(age):
    assert set(fields_of("ort", ORT_NONE, sex="female", age=age)) == {"age"}


@pytest.mark.parametrize(
    ("items", "bad"),
    [
        (ORT_NONE | {"depression": 1}, {"depression"}),
        (ORT_NONE | {"depression": "yes"}, {"depression"}),
        (ORT_NONE | {"depression": None}, {"depression"}),
        ({k: v for k, v in ORT_NONE.items() if k != "family_alcohol"}, {"family_alcohol"}),
        (ORT_NONE | {"smoker": True}, {"smoker"}),
    ],
)
def test_ort_refuses_bad_answers(items, bad):
    assert set(fields_of("ort", items, sex="male", age=30)) == bad


def test_ort_collects_item_and_age_problems_together():
    fields = fields_of("ort", ORT_NONE | {"depression": 1})
    assert set(fields) == {"depression", "age"}
    assert fields["depression"] == ["ORT depression must be true or false; got 1."]


# --- errors in general ----------------------------------------------------------------------


def test_unknown_instrument():
    fields = fields_of("promis", {"score": 1})
    assert list(fields) == ["instrument"]
    assert "Unknown instrument 'promis'" in fields["instrument"][0]


@pytest.mark.parametrize("instrument", [None, 3, "NRS", ""])
def test_unknown_instrument_values(instrument):
    assert list(fields_of(instrument, {"score": 1})) == ["instrument"]


@pytest.mark.parametrize("items", [None, [1, 2], "score=5"])
def test_items_must_be_an_object(items):
    assert list(fields_of("nrs", items)) == ["items", "score"]


def test_instrument_error_is_a_value_error_that_reads_and_pickles():
    error = InstrumentError({"score": ["NRS is 0 to 10; got 11."], "x": ["a", "b"]})
    assert isinstance(error, ValueError)
    assert str(error) == "score: NRS is 0 to 10; got 11.; x: a; x: b"
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert copy.fields == error.fields


def test_sex_and_age_are_ignored_by_other_instruments():
    assert score("nrs", {"score": 2}, sex="male", age=-5) == score("nrs", {"score": 2})


# --- percent relief -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "follow_up", "relief"),
    [
        (8, 2, "75.0"),
        (7, 1, "85.7"),  # 6/7 = 85.714...
        (10, 0, "100.0"),
        (5, 5, "0.0"),
        (4, 6, "-50.0"),  # worse
        (3, 2, "33.3"),  # 33.333...
        (3, 1, "66.7"),  # 66.666...
        (6, 7, "-16.7"),  # -16.666...
        (80, 79, "1.3"),  # exactly 1.25: half rounds up
        (80, 81, "-1.3"),  # exactly -1.25: half rounds away from zero
        (D("6.67"), D("3.33"), "50.1"),  # PEG means: 3.34 / 6.67 = 50.07...
        (D(8), 2, "75.0"),
    ],
)
def test_percent_relief(baseline, follow_up, relief):
    result = percent_relief(baseline, follow_up)
    assert isinstance(result, Decimal)
    assert str(result) == relief


@pytest.mark.parametrize("follow_up", [0, 3])
def test_percent_relief_is_undefined_from_a_zero_baseline(follow_up):
    assert percent_relief(0, follow_up) is None


@pytest.mark.parametrize(
    ("baseline", "follow_up", "bad"),
    [
        (-1, 2, {"baseline"}),
        (8, -2, {"follow_up"}),
        (True, 2, {"baseline"}),
        ("8", "2", {"baseline", "follow_up"}),
        (None, 2, {"baseline"}),
        (D("NaN"), 2, {"baseline"}),
    ],
)
def test_percent_relief_refuses_bad_input(baseline, follow_up, bad):
    with pytest.raises(InstrumentError) as caught:
        percent_relief(baseline, follow_up)
    assert set(caught.value.fields) == bad
