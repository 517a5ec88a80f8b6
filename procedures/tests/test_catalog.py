"""The reference data the data migration loads, checked against the shipped source files."""

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from procedures import catalog
from procedures.models import AnticoagulantRule, ProcedureType, SafetyThreshold, Steroid

DATA = Path(catalog.__file__).resolve().parent / "data"
PROJECT = Path(__file__).resolve().parents[2]
SHARED = PROJECT.parent / "shared" / "domain"


def source_rows(name: str) -> list[dict]:
    with (DATA / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


# --- The migration loads every row ---------------------------------------------------------


def test_every_procedure_row_is_loaded(db):
    rows = source_rows("procedures.csv")
    assert len(rows) > 20
    assert ProcedureType.objects.count() == len(rows)
    assert set(ProcedureType.objects.values_list("code", flat=True)) == {r["code"] for r in rows}


def test_every_anticoagulant_row_is_loaded(db):
    rows = source_rows("anticoagulants.csv")
    # and the N18 holds of the drug vocabulary's uncertain rows (test_drug_vocabulary.py)
    extra = source_rows("extra/holds_n18_extra.csv")
    assert AnticoagulantRule.objects.count() == len(rows) + len(extra)
    assert set(AnticoagulantRule.objects.values_list("drug", flat=True)) == {
        r["drug"] for r in rows + extra
    }
    assert not AnticoagulantRule.objects.filter(
        drug__in=[r["drug"] for r in extra], certain=True
    ).exists()
    for row in rows:
        rule = AnticoagulantRule.objects.get(drug=row["drug"])
        assert rule.drug_class == row["class"]
        assert rule.source == row["source"]
        assert rule.certain is (row["certain"] == "yes")
        assert rule.restart_after == row["restart_after"]
        # The source's own wording is kept, ranges included.
        for risk in ("high", "intermediate", "low"):
            assert row[f"hold_before_{risk}_risk"] in rule.note


def test_every_threshold_is_loaded(db):
    stored = {t.key: t for t in SafetyThreshold.objects.all()}
    assert set(stored) == {row[0] for row in catalog.THRESHOLDS}
    for key, value, unit, _description, source, certain in catalog.THRESHOLDS:
        assert stored[key].value == Decimal(value)
        assert stored[key].unit == unit
        assert stored[key].source == source
        assert stored[key].certain is certain
    assert set(Steroid.objects.values_list("name", flat=True)) == {
        "methylprednisolone",
        "triamcinolone",
        "dexamethasone",
        "betamethasone",
    }


# Each loaded threshold next to the source wording it comes from (frequency_rules.csv,
# instruments.md, intake.md).
THRESHOLD_SOURCES = [
    ("esi_max_sessions", "4", "esi_max_sessions", "4 sessions"),
    ("facet_max_diagnostic", "4", "facet_max_diagnostic", "4 diagnostic sessions"),
    ("facet_max_therapeutic", "4", "facet_max_therapeutic", "4 therapeutic sessions"),
    ("rfa_max_sessions", "2", "rfa_max_sessions", "2 sessions"),
    ("si_max_diagnostic", "2", "si_max", "2 diagnostic and 4 therapeutic sessions"),
    ("si_max_therapeutic", "4", "si_max", "2 diagnostic and 4 therapeutic sessions"),
    ("tpi_max_sessions", "3", "tpi_max", "3 sessions"),
    ("mbb_positive_relief", "80", "mbb_positive", ">=80% relief of index pain"),
    ("mbb_positive_blocks_for_rfa", "2", "mbb_positive", "two positive diagnostic blocks"),
    ("mbb_second_block_min_days", "14", "mbb_second_block_interval", ">=2 weeks"),
    ("rfa_repeat_min_relief", "50", "rfa_repeat_response", ">=50% improvement"),
    ("rfa_repeat_min_days", "182", "rfa_repeat_response", "lasting >=6 months"),
    ("rfa_blocks_expire_days", "730", "rfa_blocks_expire", "more than 2 years ago"),
    ("esi_repeat_min_relief", "50", "esi_repeat_response", ">=50% sustained relief"),
    ("esi_repeat_min_days", "90", "esi_repeat_response", "lasting >=3 months"),
    ("steroid_min_interval_days", "14", "steroid_min_interval", "2-4 weeks"),
    ("steroid_annual_cap_mg", "200", "steroid_annual_cap", "200 mg methylprednisolone"),
    ("scs_trial_min_relief", "50", "scs_trial_success", ">=50% pain relief"),
    ("si_positive_relief", "75", "si_positive", ">=75% relief"),
    ("frequency_window_days", "365", "esi_max_sessions", "rolling 12 months"),
]


@pytest.mark.parametrize(("key", "value", "rule", "wording"), THRESHOLD_SOURCES)
def test_threshold_matches_its_source(db, key, value, rule, wording):
    rules = {row["rule"]: row for row in source_rows("frequency_rules.csv")}
    assert rule in rules
    assert wording in " ".join(rules[rule].values())
    threshold = SafetyThreshold.objects.get(key=key)
    assert threshold.value == Decimal(value)
    assert threshold.certain is (rules[rule]["certain"] == "yes")


# --- The shipped copies are the shared reference files -------------------------------------


def test_shipped_data_equals_shared_reference_files():
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present")
    shipped = {p.name for p in DATA.glob("*.csv")}
    shared = {p.name for p in SHARED.glob("*.csv")}
    assert shipped == shared
    for name in sorted(shipped):
        assert (DATA / name).read_bytes() == (SHARED / name).read_bytes(), name


# --- Parsed values, spot-checked against the source ----------------------------------------

PROCEDURE_VALUES = [
    ("ilesi_ls", "bleeding_risk", "intermediate"),
    ("ilesi_ls", "max_levels", 1),
    ("ilesi_ct", "max_levels", 1),
    ("tfesi_ls", "max_levels", 2),
    ("tfesi_ls", "bleeding_risk", "intermediate"),
    ("tfesi_ls", "contrast", "yes"),
    ("tfesi_ls", "steroid", "yes"),
    ("mbb_ct", "bleeding_risk", "intermediate"),
    ("mbb_ls", "bleeding_risk", "low"),
    ("mbb_ls", "steroid", "no"),
    ("rfa_ls", "bleeding_risk", "low"),
    ("rfa_ct", "bleeding_risk", "intermediate"),
    ("scs_trial", "bleeding_risk", "high"),
    ("scs_trial", "needs_driver", True),
    ("scs_trial", "fasting_hours", 6),
    ("scs_implant", "room_kind", "operating_room"),
    ("scs_implant", "needs_driver", True),
    ("scs_implant", "sedation", "general"),
    ("itp_implant", "room_kind", "operating_room"),
    ("trigger_point", "needs_driver", False),
    ("trigger_point", "fasting_hours", 0),
    ("trigger_point", "contrast", "no"),
    ("trigger_point", "room_kind", "procedure_room"),
    ("occipital_block", "room_kind", "ultrasound"),
    ("tfesi_ls", "room_kind", "fluoroscopy_suite"),
    ("vertebroplasty", "bleeding_risk", "high"),
    ("vertebroplasty", "max_levels", 3),
    ("adhesiolysis", "bleeding_risk", "high"),
    ("tfesi_ls", "region", "lumbar_sacral"),
    ("ilesi_ct", "region", "cervical_thoracic"),
]


@pytest.mark.parametrize(("code", "field", "expected"), PROCEDURE_VALUES)
def test_procedure_value(db, code, field, expected):
    assert getattr(ProcedureType.objects.get(code=code), field) == expected


def test_region_dependent_risk_keeps_the_source_wording(db):
    mbb_ct = ProcedureType.objects.get(code="mbb_ct")
    assert mbb_ct.bleeding_risk == "intermediate"  # the stricter of the two
    assert "cervical intermediate; thoracic low" in mbb_ct.source_note


@pytest.mark.parametrize(
    ("code", "field"),
    [
        ("adhesiolysis", "asra_risk"),
        ("adhesiolysis", "row"),
        ("scs_implant", "sedation_common"),
        ("scs_implant", "row"),
        ("mbb_ls", "contrast_typical"),
        ("snrb_ls", "steroid_typical"),
    ],
)
def test_uncertain_values_are_flagged(db, code, field):
    kind = ProcedureType.objects.get(code=code)
    assert field in kind.uncertain_fields
    assert "Unconfirmed" in kind.source_note


def test_confirmed_rows_carry_no_uncertain_flag(db):
    # Only the consent risks, which procedures.csv does not give (procedures/consent.py).
    assert ProcedureType.objects.get(code="tfesi_ls").uncertain_fields == ["consent_risks"]


# drug: (high, intermediate, low) as (decision, hours); from anticoagulants.csv by hand.
HOLD, SHARED_DECISION, NO_HOLD = "hold", "shared_decision", "no_hold"
EXPECTED_HOLDS = {
    "aspirin (primary prevention)": ((HOLD, 144), (SHARED_DECISION, None), (NO_HOLD, None)),
    "aspirin (secondary prevention)": (
        (SHARED_DECISION, 144),
        (SHARED_DECISION, None),
        (NO_HOLD, None),
    ),
    "diclofenac / ketorolac / ibuprofen": ((HOLD, 24), (NO_HOLD, None), (NO_HOLD, None)),
    "etodolac / indomethacin": ((HOLD, 48), (NO_HOLD, None), (NO_HOLD, None)),
    "naproxen / meloxicam": ((HOLD, 96), (NO_HOLD, None), (NO_HOLD, None)),
    "nabumetone": ((HOLD, 144), (NO_HOLD, None), (NO_HOLD, None)),
    "oxaprozin / piroxicam": ((HOLD, 240), (NO_HOLD, None), (NO_HOLD, None)),
    "cilostazol / dipyridamole": ((HOLD, 48), (NO_HOLD, None), (NO_HOLD, None)),
    "warfarin": ((HOLD, 120), (HOLD, 120), (SHARED_DECISION, None)),
    "acenocoumarol": ((HOLD, 72), (HOLD, 72), (SHARED_DECISION, None)),
    "unfractionated heparin IV": ((HOLD, 6), (HOLD, 6), (HOLD, 6)),
    "unfractionated heparin SC (BID/TID)": ((HOLD, 24), (HOLD, 6), (HOLD, 6)),
    "enoxaparin prophylactic dose": ((HOLD, 12), (HOLD, 12), (HOLD, 12)),
    "enoxaparin therapeutic dose / dalteparin": ((HOLD, 24), (HOLD, 24), (HOLD, 24)),
    "clopidogrel": ((HOLD, 168), (HOLD, 168), (SHARED_DECISION, None)),
    "prasugrel": ((HOLD, 240), (HOLD, 240), (SHARED_DECISION, None)),  # upper end of 7-10 days
    "ticagrelor": ((HOLD, 120), (HOLD, 120), (SHARED_DECISION, None)),
    "rivaroxaban": ((HOLD, 72), (HOLD, 72), (SHARED_DECISION, None)),
    "apixaban": ((HOLD, 72), (HOLD, 72), (SHARED_DECISION, None)),
    "edoxaban": ((HOLD, 72), (HOLD, 72), (SHARED_DECISION, None)),
    "dabigatran": ((HOLD, 120), (HOLD, 120), (SHARED_DECISION, None)),  # upper end of 4-5 days
    "fondaparinux": ((HOLD, 96), (HOLD, 96), (SHARED_DECISION, None)),
}


def test_the_hold_table_covers_every_source_row():
    assert set(EXPECTED_HOLDS) == {row["drug"] for row in source_rows("anticoagulants.csv")}


@pytest.mark.parametrize(("drug", "expected"), EXPECTED_HOLDS.items(), ids=list(EXPECTED_HOLDS))
def test_hold_intervals(db, drug, expected):
    rule = AnticoagulantRule.objects.get(drug=drug)
    assert (
        rule.hold_for("high"),
        rule.hold_for("intermediate"),
        rule.hold_for("low"),
    ) == expected


@pytest.mark.parametrize(
    ("drug", "inr"),
    [("warfarin", True), ("acenocoumarol", True), ("apixaban", False), ("clopidogrel", False)],
)
def test_normal_inr_requirement(db, drug, inr):
    assert AnticoagulantRule.objects.get(drug=drug).requires_normal_inr is inr


@pytest.mark.parametrize(
    ("drug", "names"),
    [
        ("unfractionated heparin SC (BID/TID)", ["heparin"]),
        ("unfractionated heparin IV", ["heparin"]),
        ("aspirin (primary prevention)", ["aspirin"]),
        ("diclofenac / ketorolac / ibuprofen", ["diclofenac", "ibuprofen", "ketorolac"]),
        ("enoxaparin prophylactic dose", ["enoxaparin"]),
        ("enoxaparin therapeutic dose / dalteparin", ["dalteparin", "enoxaparin"]),
        ("apixaban", ["apixaban"]),
    ],
)
def test_match_names(db, drug, names):
    assert AnticoagulantRule.objects.get(drug=drug).match_names == names


def test_aspirin_appears_in_two_rules(db):
    rules = AnticoagulantRule.objects.filter(match_names__contains=["aspirin"])
    assert sorted(r.drug for r in rules) == [
        "aspirin (primary prevention)",
        "aspirin (secondary prevention)",
    ]


@pytest.mark.parametrize(
    ("drug", "certain"), [("warfarin", True), ("apixaban", False), ("prasugrel", False)]
)
def test_uncertain_hold_rules_are_flagged(db, drug, certain):
    assert AnticoagulantRule.objects.get(drug=drug).certain is certain


@pytest.mark.parametrize(
    ("name", "factor", "cap"),
    [
        ("methylprednisolone", "1", None),
        ("triamcinolone", "1", "80"),  # LCD-ESI per-session maximum
        ("dexamethasone", "5.333", "15"),
        ("betamethasone", "6.667", "12"),
    ],
)
def test_steroid_equivalence(db, name, factor, cap):
    steroid = Steroid.objects.get(name=name)
    assert steroid.methylprednisolone_factor == Decimal(factor)
    assert steroid.max_dose_per_session_mg == (Decimal(cap) if cap else None)
