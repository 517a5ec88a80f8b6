"""The pre-procedure safety check, each rule held to the value its source gives.

Every date is relative to TODAY (2026-06-15), passed to safety_check as `today`.
"""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.users.actor import Actor
from patients import services as chart
from patients.tests.factories import PatientFactory
from procedures.models import AuthStatus, ProcedureOrder, ProcedureType, SafetyThreshold
from procedures.safety import BLOCK, INFO, SEVERITY_ORDER, WARN, safety_check
from procedures.tests.factories import (
    TODAY,
    ProcedureOrderFactory,
    ProcedureOutcomeFactory,
    at,
    procedure_type,
    record,
)
from scheduling.tests.factories import LocationFactory


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def check(patient, code: str, in_days: int = 30, *, side="left", **options):
    return safety_check(
        patient=patient,
        procedure_type=procedure_type(code),
        planned_date=day(in_days),
        side=side,
        today=TODAY,
        **options,
    )


def by_code(findings) -> dict:
    found = {}
    for finding in findings:
        assert finding.code not in found, f"{finding.code} reported twice"
        found[finding.code] = finding
    return found


def blocks(findings) -> set[str]:
    return {f.code for f in findings if f.severity == BLOCK}


@pytest.fixture
def patient(db):
    return PatientFactory()


@pytest.fixture
def add(patient, clinician_user):
    """add("medication", name=..., drug_class=...) puts an entry on the patient's chart."""

    def add_entry(chart_list: str, **fields):
        return chart.clinical_entry_add(
            patient=patient, chart_list=chart_list, by=Actor.desk(clinician_user), **fields
        )

    return add_entry


def set_threshold(key: str, value) -> None:
    assert SafetyThreshold.objects.filter(key=key).update(value=value) == 1


# --- 1 and 2. Anticoagulant and antiplatelet holds (anticoagulants.csv, ASRA 2018) ----------

# (medication, class, procedure, planned in days, severity, hold_start or None, fragments)
HOLD_CASES = [
    # Apixaban: 3 days for high and intermediate risk, shared decision for low.
    ("Apixaban", "doac", "scs_trial", 2, BLOCK, "2026-06-14", ["3 days", "2026-06-18"]),
    ("Apixaban", "doac", "scs_trial", 3, WARN, "2026-06-15", ["first day without it 2026-06-15"]),
    ("Apixaban", "doac", "scs_trial", 4, WARN, "2026-06-16", ["first day without it 2026-06-16"]),
    ("Apixaban", "doac", "tfesi_ls", 2, BLOCK, "2026-06-14", ["3 days", "intermediate-risk"]),
    ("Apixaban", "doac", "tfesi_ls", 4, WARN, "2026-06-16", ["first day without it 2026-06-16"]),
    ("Apixaban", "doac", "mbb_ls", 1, WARN, None, ["shared decision", "low-risk"]),
    # Warfarin: 5 days and a normal INR.
    ("Warfarin", "vitamin_k_antagonist", "scs_trial", 4, BLOCK, "2026-06-14", ["normal INR"]),
    ("Warfarin", "vitamin_k_antagonist", "scs_trial", 10, WARN, "2026-06-20", ["normal INR"]),
    ("Warfarin", "vitamin_k_antagonist", "tfesi_ls", 10, WARN, "2026-06-20", ["normal INR"]),
    ("Warfarin", "vitamin_k_antagonist", "mbb_ls", 10, WARN, None, ["shared decision"]),
    # Clopidogrel: 7 days.
    ("Clopidogrel", "p2y12_inhibitor", "tfesi_ls", 6, BLOCK, "2026-06-14", ["7 days"]),
    ("Clopidogrel", "p2y12_inhibitor", "tfesi_ls", 10, WARN, "2026-06-18", ["7 days before"]),
    ("Clopidogrel", "p2y12_inhibitor", "mbb_ls", 10, WARN, None, ["shared decision"]),
    # Naproxen: 4 days for high risk, no hold for intermediate or low.
    ("Naproxen", "nsaid", "scs_trial", 10, WARN, "2026-06-21", ["4 days before"]),
    ("Naproxen", "nsaid", "scs_trial", 3, BLOCK, "2026-06-14", ["4 days"]),
    ("Naproxen", "nsaid", "tfesi_ls", 10, INFO, None, ["no hold"]),
    ("Naproxen", "nsaid", "mbb_ls", 10, INFO, None, ["no hold"]),
    # Aspirin: the stricter primary-prevention rule, naming the secondary-prevention one.
    (
        "Aspirin",
        "antiplatelet",
        "scs_trial",
        10,
        WARN,
        "2026-06-19",
        ["aspirin (secondary prevention)"],
    ),
    (
        "Aspirin",
        "antiplatelet",
        "scs_trial",
        5,
        BLOCK,
        "2026-06-14",
        ["aspirin (secondary prevention)"],
    ),
    ("Aspirin", "antiplatelet", "tfesi_ls", 10, WARN, None, ["shared decision"]),
    ("Aspirin", "antiplatelet", "mbb_ls", 10, INFO, None, ["no hold"]),
    # Prasugrel: the upper end of 7-10 days.
    ("Prasugrel", "p2y12_inhibitor", "scs_trial", 14, WARN, "2026-06-19", []),
    ("Prasugrel", "p2y12_inhibitor", "scs_trial", 9, BLOCK, "2026-06-14", []),
]


@pytest.mark.parametrize(
    ("name", "drug_class", "code", "in_days", "severity", "hold_start", "fragments"), HOLD_CASES
)
def test_hold_before_procedure(
    patient, add, name, drug_class, code, in_days, severity, hold_start, fragments
):
    add("medication", name=name, drug_class=drug_class, dose="5 mg")
    holds = [f for f in check(patient, code, in_days) if f.code.startswith("hold")]
    assert len(holds) == 1
    finding = holds[0]
    assert finding.severity == severity
    assert finding.details.get("hold_start") == hold_start
    for fragment in fragments:
        assert fragment in finding.reason


# Each drug at the bleeding-risk class (procedure) where the source says to hold it:
# planned exactly `hours` ahead is the last day that is still in time; a day earlier is not.
# (medication name, class, expected rule, procedure, hold hours)
HOLD_HOURS = [
    ("Aspirin", "antiplatelet", "aspirin (primary prevention)", "scs_trial", 144),
    ("Ibuprofen", "nsaid", "diclofenac / ketorolac / ibuprofen", "scs_trial", 24),
    ("Ketorolac", "nsaid", "diclofenac / ketorolac / ibuprofen", "scs_trial", 24),
    ("Indomethacin", "nsaid", "etodolac / indomethacin", "scs_trial", 48),
    ("Meloxicam", "nsaid", "naproxen / meloxicam", "scs_trial", 96),
    ("Nabumetone", "nsaid", "nabumetone", "scs_trial", 144),
    ("Piroxicam", "nsaid", "oxaprozin / piroxicam", "scs_trial", 240),
    ("Cilostazol", "antiplatelet", "cilostazol / dipyridamole", "scs_trial", 48),
    ("Warfarin", "vitamin_k_antagonist", "warfarin", "tfesi_ls", 120),
    ("Acenocoumarol", "vitamin_k_antagonist", "acenocoumarol", "scs_trial", 72),
    ("Heparin", "heparin", "unfractionated heparin SC (BID/TID)", "scs_trial", 24),
    ("Dalteparin", "lmwh", "enoxaparin therapeutic dose / dalteparin", "mbb_ls", 24),
    ("Enoxaparin", "lmwh", "enoxaparin therapeutic dose / dalteparin", "scs_trial", 24),
    ("Clopidogrel", "p2y12_inhibitor", "clopidogrel", "scs_trial", 168),
    ("Prasugrel", "p2y12_inhibitor", "prasugrel", "tfesi_ls", 240),
    ("Ticagrelor", "p2y12_inhibitor", "ticagrelor", "scs_trial", 120),
    ("Rivaroxaban", "doac", "rivaroxaban", "scs_trial", 72),
    ("Edoxaban", "doac", "edoxaban", "tfesi_ls", 72),
    ("Dabigatran", "doac", "dabigatran", "scs_trial", 120),
    ("Fondaparinux", "factor_xa_inhibitor", "fondaparinux", "scs_trial", 96),
]


@pytest.mark.parametrize(("name", "drug_class", "rule", "code", "hours"), HOLD_HOURS)
@pytest.mark.parametrize("late", [False, True], ids=["in_time", "too_late"])
def test_hold_interval_is_the_source_value(patient, add, name, drug_class, rule, code, hours, late):
    add("medication", name=name, drug_class=drug_class)
    if rule == "dabigatran":  # normal kidney function: the shorter hold (test_labs.py)
        chart.lab_record(patient=patient, by=Actor.system(), kind="crcl", value=90, taken_on=TODAY)
    in_days = hours // 24 - (1 if late else 0)
    finding = by_code(check(patient, code, in_days))[f"hold:{rule}"]
    assert finding.details["hold_hours"] == hours
    assert finding.severity == (BLOCK if late else WARN)


@pytest.mark.parametrize(
    ("name", "drug_class", "code", "rule", "hours"),
    [
        ("Heparin", "heparin", "tfesi_ls", "unfractionated heparin IV", 6),
        ("Heparin", "heparin", "mbb_ls", "unfractionated heparin IV", 6),
        ("Enoxaparin", "lmwh", "tfesi_ls", "enoxaparin therapeutic dose / dalteparin", 24),
    ],
)
def test_hours_long_holds_never_block_a_procedure_today(
    patient, add, name, drug_class, code, rule, hours
):
    add("medication", name=name, drug_class=drug_class)
    finding = by_code(check(patient, code, 1 if hours >= 24 else 0))[f"hold:{rule}"]
    assert finding.severity == WARN
    assert finding.details["hold_hours"] == hours


def test_unknown_bleeding_drug_asks_for_the_prescriber(patient, add):
    add("medication", name="Vorapaxar", drug_class="antiplatelet")
    finding = by_code(check(patient, "tfesi_ls"))["hold_unknown:vorapaxar"]
    assert finding.severity == WARN
    assert "Vorapaxar" in finding.reason


def test_drugs_that_do_not_affect_bleeding_are_not_reported(patient, add):
    add("medication", name="Gabapentin", drug_class="gabapentinoid")
    assert not [f for f in check(patient, "scs_trial") if f.code.startswith("hold")]


@pytest.mark.parametrize(
    ("end_offset", "expected"),
    [(-30, None), (-1, INFO), (None, WARN)],
    ids=["ended_a_month_ago", "stopped_in_time", "current"],
)
def test_a_medication_stopped_in_time_needs_no_hold(patient, add, end_offset, expected):
    """The planned date is 20 days ahead: apixaban stopped yesterday is out of the way (an
    INFO saying so); one stopped a month before is not reported; a current one is a WARN
    with the stop date."""
    add(
        "medication",
        name="Apixaban",
        drug_class="doac",
        start_date=day(-400),
        end_date=day(end_offset) if end_offset is not None else None,
    )
    finding = by_code(check(patient, "scs_trial", 20)).get("hold:apixaban")
    assert (finding.severity if finding else None) == expected


def test_medication_ended_inside_the_hold_window_still_blocks(patient, add):
    add(
        "medication",
        name="Apixaban",
        drug_class="doac",
        start_date=day(-400),
        end_date=day(9),  # last dose the day before a procedure on day 10
    )
    assert "hold:apixaban" in blocks(check(patient, "scs_trial", 10))


def test_hold_reason_says_ten_days_in_words(patient, add):
    add("medication", name="Prasugrel", drug_class="p2y12_inhibitor")
    finding = by_code(check(patient, "scs_trial", 20))["hold:prasugrel"]
    assert "10 days before" in finding.reason


# --- 3. Session limits per spinal region in a rolling 12 months (LCD-ESI, -FACET, -SI, -TPI) --

# (earlier procedures as (code, days before TODAY), planned procedure, limit code or None)
SESSION_CASES = [
    (
        [("tfesi_ls", 30), ("ilesi_ls", 100), ("tfesi_ls", 200), ("tfesi_ls", 300)],
        "tfesi_ls",
        "session_limit:esi_max_sessions",
    ),
    ([("tfesi_ls", 30), ("ilesi_ls", 100), ("tfesi_ls", 200)], "tfesi_ls", None),
    (
        [("tfesi_ls", 30), ("ilesi_ls", 100), ("tfesi_ls", 200), ("tfesi_ls", 400)],
        "tfesi_ls",
        None,
    ),
    (
        [("tfesi_ct", 30), ("ilesi_ct", 100), ("tfesi_ct", 200), ("tfesi_ct", 300)],
        "tfesi_ls",
        None,
    ),
    (
        [("tfesi_ct", 30), ("ilesi_ct", 100), ("tfesi_ct", 200), ("tfesi_ct", 300)],
        "ilesi_ct",
        "session_limit:esi_max_sessions",
    ),
    (
        [("trigger_point", 30), ("trigger_point", 100), ("trigger_point", 200)],
        "trigger_point",
        "session_limit:tpi_max_sessions",
    ),
    ([("trigger_point", 30), ("trigger_point", 100)], "trigger_point", None),
    (
        [("si_lateral_branch_block", 30), ("si_lateral_branch_block", 100)],
        "si_lateral_branch_block",
        "session_limit:si_max_diagnostic",
    ),
    # Two diagnostic SI blocks do not use up the therapeutic SI sessions.
    ([("si_lateral_branch_block", 30), ("si_lateral_branch_block", 100)], "si_injection", None),
    (
        [("mbb_ls", 30), ("mbb_ls", 100), ("mbb_ls", 200), ("mbb_ls", 300)],
        "mbb_ls",
        "session_limit:facet_max_diagnostic",
    ),
]


@pytest.mark.parametrize(("history", "code", "expected"), SESSION_CASES)
def test_session_limits(patient, history, code, expected):
    for done, days_ago in history:
        record(patient, done, days_ago)
    found = {f.code for f in check(patient, code, 30) if f.code.startswith("session_limit")}
    assert found == ({expected} if expected else set())
    if expected:
        assert expected in blocks(check(patient, code, 30))


def test_fifth_lumbar_esi_finding_explains_the_count(patient):
    for days_ago in (30, 100, 200, 300):
        record(patient, "tfesi_ls", days_ago)
    finding = by_code(check(patient, "tfesi_ls", 30))["session_limit:esi_max_sessions"]
    # The oldest (300 days ago) leaves the 365 days after 366: covered again from then.
    covered_from = (TODAY + timedelta(days=66)).isoformat()
    assert finding.details == {"count": 4, "limit": 4, "covered_from": covered_from}
    assert f"Covered again from {covered_from}" in finding.reason
    assert "L39240" in finding.source


# --- 4. Facet RFA needs two positive medial branch blocks (LCD-FACET) -----------------------

# (earlier procedures as (code, days before TODAY, best relief), blocked?)
RFA_CASES = [
    ([], True),
    ([("mbb_ls", 60, 85)], True),
    ([("mbb_ls", 60, 85), ("mbb_ls", 40, 90)], False),
    ([("mbb_ls", 60, 80), ("mbb_ls", 40, 80)], False),  # >= 80 is positive
    ([("mbb_ls", 60, 70), ("mbb_ls", 40, 70)], True),
    ([("mbb_ls", 60, 85), ("mbb_ls", 40, None)], True),  # no follow-up recorded
    ([("mbb_ct", 60, 90), ("mbb_ct", 40, 90)], True),  # another region
    ([("mbb_ct", 60, 90), ("mbb_ls", 40, 90)], True),
]


@pytest.mark.parametrize(("history", "blocked"), RFA_CASES)
def test_rfa_needs_positive_blocks(patient, history, blocked):
    for code, days_ago, relief in history:
        record(patient, code, days_ago, relief=relief)
    findings = check(patient, "rfa_ls", 14)
    assert ("rfa_needs_positive_blocks" in blocks(findings)) is blocked
    if not blocked:
        assert blocks(findings) == set()


def test_cervical_rfa_counts_cervical_blocks(patient):
    record(patient, "mbb_ct", 60, relief=90)
    record(patient, "mbb_ct", 40, relief=90)
    assert "rfa_needs_positive_blocks" not in by_code(check(patient, "rfa_ct", 14))


@pytest.mark.parametrize(
    ("outcome", "blocked"),
    [
        (None, True),
        ((190, 60), False),  # 60% measured 190 days after the last RFA
        ((182, 50), False),  # exactly the source's >=50% lasting >=6 months
        ((100, 80), True),  # relief that did not last 6 months
        ((190, 40), True),  # lasted, but too little
    ],
)
def test_repeat_rfa_needs_a_lasting_response(patient, outcome, blocked):
    record(patient, "mbb_ls", 500, relief=90)
    record(patient, "mbb_ls", 480, relief=90)
    last = record(patient, "rfa_ls", 300)
    if outcome:
        days_after, relief = outcome
        ProcedureOutcomeFactory(
            record=last,
            measured_at=last.performed_at + timedelta(days=days_after),
            nrs=3,
            percent_relief=relief,
        )
    findings = check(patient, "rfa_ls", 14)
    assert ("rfa_repeat_response" in blocks(findings)) is blocked
    assert "rfa_needs_positive_blocks" not in by_code(findings)


def test_blocks_must_be_repeated_when_the_last_rfa_is_over_two_years_old(patient):
    record(patient, "mbb_ls", 900, relief=90)
    record(patient, "mbb_ls", 880, relief=90)
    record(patient, "rfa_ls", 800)
    findings = by_code(check(patient, "rfa_ls", 14))
    assert findings["rfa_needs_positive_blocks"].severity == BLOCK
    assert "rfa_repeat_response" not in findings

    record(patient, "mbb_ls", 60, relief=85)
    record(patient, "mbb_ls", 40, relief=85)
    assert blocks(check(patient, "rfa_ls", 14)) == set()


def test_rfa_sessions_are_limited_to_two_a_year(patient):
    record(patient, "rfa_ls", 300)
    last = record(patient, "rfa_ls", 250)
    ProcedureOutcomeFactory(
        record=last, measured_at=last.performed_at + timedelta(days=200), percent_relief=70
    )
    findings = check(patient, "rfa_ls", 14)
    assert blocks(findings) == {"session_limit:rfa_max_sessions"}


@pytest.mark.parametrize(("days_before", "blocked"), [(10, True), (13, True), (14, False)])
def test_second_medial_branch_block_waits_two_weeks(patient, days_before, blocked):
    record(patient, "mbb_ls", days_before - 1, relief=90)  # planned 1 day from TODAY
    assert ("mbb_interval" in blocks(check(patient, "mbb_ls", 1))) is blocked


def test_rfa_reason_gives_the_relief_threshold_in_words(patient):
    finding = by_code(check(patient, "rfa_ls", 14))["rfa_needs_positive_blocks"]
    assert ">= 80% relief" in finding.reason


# --- 5. Managers' edits to a threshold change the outcome ------------------------------------


def four_lumbar_esis(patient):
    for days_ago in (30, 100, 200, 300):
        record(patient, "tfesi_ls", days_ago)


def one_positive_mbb(patient):
    record(patient, "mbb_ls", 60, relief=85)


def two_mbbs_at_85(patient):
    record(patient, "mbb_ls", 60, relief=85)
    record(patient, "mbb_ls", 40, relief=85)


def steroid_20_days_before(patient):
    record(patient, "joint_large", 6, steroid="triamcinolone", dose=40)


def two_triamcinolone_80(patient):
    record(patient, "joint_large", 100, steroid="triamcinolone", dose=80)
    record(patient, "joint_large", 200, steroid="triamcinolone", dose=80)


# (history, planned procedure, threshold, new value, finding code, blocked before, after)
THRESHOLD_EDITS = [
    (four_lumbar_esis, "tfesi_ls", "esi_max_sessions", 5, "session_limit:esi_max_sessions", True, False),
    (four_lumbar_esis, "tfesi_ls", "frequency_window_days", 180, "session_limit:esi_max_sessions", True, False),
    (one_positive_mbb, "rfa_ls", "mbb_positive_blocks_for_rfa", 1, "rfa_needs_positive_blocks", True, False),
    (two_mbbs_at_85, "rfa_ls", "mbb_positive_relief", 90, "rfa_needs_positive_blocks", False, True),
    (steroid_20_days_before, "tfesi_ls", "steroid_min_interval_days", 28, "steroid_interval", False, True),
    (two_triamcinolone_80, "tfesi_ls", "steroid_annual_cap_mg", 160, "steroid_cumulative", False, True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("history", "code", "key", "value", "finding", "before", "after"), THRESHOLD_EDITS
)
def test_editing_a_threshold_changes_the_outcome(
    patient, history, code, key, value, finding, before, after
):
    history(patient)
    assert (finding in blocks(check(patient, code, 14))) is before
    set_threshold(key, value)
    assert (finding in blocks(check(patient, code, 14))) is after


def test_scs_trial_threshold_edit(patient):
    record(patient, "scs_trial", 30, relief=60)
    assert "scs_needs_trial" not in by_code(check(patient, "scs_implant", 14))
    set_threshold("scs_trial_min_relief", 70)
    assert "scs_needs_trial" in blocks(check(patient, "scs_implant", 14))


# --- 6. Allergies, conditions and devices (intake.md) ----------------------------------------

CONTRAST = {"substance": "Iohexol", "procedure_class": "iodinated_contrast"}

# (chart entries as (list, fields), procedure, finding code, severity or None)
CHART_CASES = [
    ([("allergy", {**CONTRAST, "severity": "moderate"})], "tfesi_ls", "contrast_allergy", WARN),
    ([("allergy", {**CONTRAST, "severity": "anaphylaxis"})], "tfesi_ls", "contrast_allergy", BLOCK),
    ([("allergy", {**CONTRAST, "severity": "anaphylaxis"})], "trigger_point", "contrast_allergy", None),
    ([("allergy", {**CONTRAST, "severity": "moderate"})], "rfa_ls", "contrast_allergy", WARN),  # optional contrast
    ([("allergy", {"substance": "Shellfish", "severity": "severe"})], "tfesi_ls", "contrast_allergy", None),
    ([("allergy", {**CONTRAST, "severity": "anaphylaxis", "start_date": day(-900), "end_date": day(-400)})], "tfesi_ls", "contrast_allergy", None),
    ([("condition", {"kind": "pregnancy"})], "tfesi_ls", "pregnancy", BLOCK),
    ([("condition", {"kind": "pregnancy"})], "mbb_ls", "pregnancy", BLOCK),
    ([("condition", {"kind": "pregnancy"})], "vertebroplasty", "pregnancy", BLOCK),
    ([("condition", {"kind": "pregnancy"})], "kyphoplasty", "pregnancy", BLOCK),
    ([("condition", {"kind": "pregnancy"})], "occipital_block", "pregnancy", None),
    ([("condition", {"kind": "pregnancy"})], "trigger_point", "pregnancy", None),
    ([("condition", {"kind": "pacemaker_icd"})], "rfa_ls", "cardiac_device", BLOCK),
    ([("condition", {"kind": "pacemaker_icd"})], "scs_trial", "cardiac_device", BLOCK),
    ([("condition", {"kind": "pacemaker_icd"})], "tfesi_ls", "cardiac_device", None),
    ([("device", {"kind": "pacemaker"})], "rfa_ls", "cardiac_device", BLOCK),
    ([("device", {"kind": "icd"})], "scs_trial", "cardiac_device", BLOCK),
    ([("device", {"kind": "icd"})], "scs_implant", "cardiac_device", BLOCK),
    ([("device", {"kind": "icd"})], "genicular_rfa", "cardiac_device", BLOCK),
    ([("device", {"kind": "pacemaker"})], "tfesi_ls", "cardiac_device", None),
    ([("device", {"kind": "spinal_cord_stimulator"})], "rfa_ls", "cardiac_device", None),
    ([("condition", {"kind": "active_infection"})], "tfesi_ls", "active_infection", BLOCK),
    ([("condition", {"kind": "active_infection"})], "trigger_point", "active_infection", BLOCK),
    ([("condition", {"kind": "diabetes"})], "tfesi_ls", "diabetes_steroid", WARN),
    ([("condition", {"kind": "diabetes"})], "joint_large", "diabetes_steroid", WARN),
    ([("condition", {"kind": "diabetes"})], "mbb_ls", "diabetes_steroid", None),
    ([("condition", {"kind": "diabetes"})], "rfa_ls", "diabetes_steroid", None),
    ([("condition", {"kind": "bleeding_disorder"})], "scs_trial", "bleeding_disorder", WARN),
    ([("condition", {"kind": "bleeding_disorder"})], "trigger_point", "bleeding_disorder", None),
]  # fmt: skip


@pytest.mark.parametrize(("entries", "code", "finding", "severity"), CHART_CASES)
def test_chart_entries(patient, add, entries, code, finding, severity):
    for chart_list, fields in entries:
        add(chart_list, **fields)
    found = by_code(check(patient, code, 14))
    if severity is None:
        assert finding not in found
    else:
        assert found[finding].severity == severity


def test_nothing_on_the_chart_nothing_found(patient):
    findings = check(patient, "tfesi_ls", 14)
    assert findings == []


# --- 7. Steroid interval and cumulative dose (KOHAN 2017; Interv Pain Med 2022) --------------


@pytest.mark.parametrize(
    ("days_before", "blocked"), [(10, True), (13, True), (14, False), (20, False)]
)
def test_steroid_interval(patient, days_before, blocked):
    record(patient, "joint_large", 2, steroid="triamcinolone", dose=80)
    findings = check(patient, "tfesi_ls", days_before - 2)
    assert ("steroid_interval" in blocks(findings)) is blocked


def test_steroid_interval_ignores_injections_without_steroid(patient):
    record(patient, "mbb_ls", 2)
    assert "steroid_interval" not in by_code(check(patient, "tfesi_ls", 14))


def test_steroid_interval_only_for_a_steroid_procedure(patient):
    record(patient, "joint_large", 2, steroid="triamcinolone", dose=80)
    assert "steroid_interval" not in by_code(check(patient, "mbb_ls", 14))


# (injections as (steroid, mg, days before TODAY), severity or None, total mg MPE)
CUMULATIVE_CASES = [
    ([("triamcinolone", 80, 60), ("triamcinolone", 80, 120), ("triamcinolone", 80, 180)], BLOCK, "240"),
    ([("dexamethasone", 10, 60), ("dexamethasone", 10, 120), ("dexamethasone", 10, 180)], WARN, "159.99"),
    ([("triamcinolone", 80, 60), ("methylprednisolone", 70, 120)], WARN, "150"),  # 75% of the cap
    ([("triamcinolone", 40, 60), ("methylprednisolone", 40, 120)], None, None),
    ([("betamethasone", 12, 60), ("betamethasone", 12, 120), ("betamethasone", 12, 180)], BLOCK, "240.01"),
    # The rolling window: an injection before it no longer counts.
    ([("triamcinolone", 80, 60), ("triamcinolone", 80, 120), ("triamcinolone", 80, 400)], WARN, "160"),
]  # fmt: skip


@pytest.mark.parametrize(("injections", "severity", "total"), CUMULATIVE_CASES)
def test_steroid_cumulative_dose(patient, injections, severity, total):
    for steroid, mg, days_ago in injections:
        record(patient, "joint_large", days_ago, steroid=steroid, dose=mg)
    found = by_code(check(patient, "tfesi_ls", 14))
    if severity is None:
        assert "steroid_cumulative" not in found
        return
    finding = found["steroid_cumulative"]
    assert finding.severity == severity
    assert float(finding.details["total_mg"]) == pytest.approx(float(total), abs=0.01)


def test_steroid_cumulative_reason_in_words(patient):
    for days_ago in (60, 120, 180):
        record(patient, "joint_large", days_ago, steroid="triamcinolone", dose=80)
    finding = by_code(check(patient, "tfesi_ls", 14))["steroid_cumulative"]
    assert "240 mg" in finding.reason
    assert "cap of 200 mg" in finding.reason


def test_steroid_interval_uses_the_local_day_of_an_evening_procedure(patient):
    pacific = ZoneInfo("America/Los_Angeles")
    record(
        patient,
        "joint_large",
        0,
        steroid="triamcinolone",
        dose=40,
        location=LocationFactory(time_zone="America/Los_Angeles"),
        performed_at=at(TODAY, time(17, 30), pacific),
    )
    assert "steroid_interval" not in by_code(check(patient, "tfesi_ls", 14))


# --- 8. Spinal cord stimulator implant needs a successful trial -----------------------------


@pytest.mark.parametrize(
    ("trial_relief", "blocked"),
    [(None, True), (60, False), (50, False), (40, True)],
    ids=["no_trial", "relief_60", "relief_50", "relief_40"],
)
def test_scs_implant_needs_a_successful_trial(patient, trial_relief, blocked):
    if trial_relief is not None:
        record(patient, "scs_trial", 20, relief=trial_relief)
    findings = check(patient, "scs_implant", 14)
    assert ("scs_needs_trial" in blocks(findings)) is blocked
    if not blocked:
        assert blocks(findings) == set()


# --- 9. Prior authorization ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "expires_in", "severity"),
    [
        (AuthStatus.DENIED, None, BLOCK),
        (AuthStatus.PENDING, None, WARN),
        (AuthStatus.APPROVED, 10, BLOCK),  # expires before the planned date (day 14)
        (AuthStatus.APPROVED, 14, None),
        (AuthStatus.APPROVED, 60, None),
        (AuthStatus.NOT_NEEDED, None, None),
    ],
)
@pytest.mark.parametrize("saved", [False, True], ids=["unsaved", "saved"])
def test_prior_authorization(patient, auth, expires_in, severity, saved):
    fields = {"auth_status": auth}
    if auth == AuthStatus.APPROVED:
        fields |= {"auth_number": "PA-123", "auth_expires": day(expires_in)}
    if saved:
        order = ProcedureOrderFactory(patient=patient, **fields)
    else:
        order = ProcedureOrder(patient=patient, procedure_type=procedure_type("tfesi_ls"), **fields)
    found = by_code(check(patient, "tfesi_ls", 14, order=order))
    if severity is None:
        assert "prior_auth" not in found
    else:
        assert found["prior_auth"].severity == severity


def test_no_order_no_authorization_finding(patient):
    assert "prior_auth" not in by_code(check(patient, "tfesi_ls", 14))


# --- 10. Levels and sedation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "levels", "blocked"),
    [
        ("tfesi_ls", ["L3-L4", "L4-L5", "L5-S1"], True),
        ("tfesi_ls", ["L4-L5", "L5-S1"], False),
        ("ilesi_ls", ["L4-L5", "L5-S1"], True),
        ("ilesi_ls", ["L4-L5"], False),
        ("mbb_ls", ["L3-L4", "L4-L5", "L5-S1"], True),
    ],
)
def test_levels_per_session(patient, code, levels, blocked):
    assert ("too_many_levels" in blocks(check(patient, code, 14, levels=levels))) is blocked


def test_more_than_three_vertebral_levels_is_a_relative_contraindication(patient):
    four = by_code(check(patient, "vertebroplasty", 14, levels=["T11", "T12", "L1", "L2"]))
    assert four["too_many_levels"].severity == WARN
    assert "too_many_levels" not in by_code(
        check(patient, "vertebroplasty", 14, levels=["T12", "L1", "L2"])
    )


def test_side_is_asked_for_where_it_applies(patient):
    assert by_code(check(patient, "mbb_ls", 14, side=""))["side_missing"].severity == WARN
    assert "side_missing" not in by_code(check(patient, "scs_trial", 14, side=""))
    assert "side_missing" not in by_code(check(patient, "mbb_ls", 14, side="bilateral"))


def test_sedation_needs_a_driver_and_six_hours_fasting(patient):
    finding = by_code(check(patient, "scs_trial", 14))["sedation"]
    assert finding.severity == INFO
    assert "drive" in finding.reason
    assert "6 hours" in finding.reason


@pytest.mark.parametrize("code", ["trigger_point", "tfesi_ls", "occipital_block"])
def test_no_sedation_no_sedation_finding(patient, code):
    assert "sedation" not in by_code(check(patient, code, 14))


# --- 11. Every finding is complete and the list is sorted ----------------------------------


@pytest.fixture
def busy_patient(patient, add):
    """A chart and a history that set off as many rules as possible at once."""
    add("medication", name="Apixaban", drug_class="doac")
    add("medication", name="Aspirin", drug_class="antiplatelet")
    add("medication", name="Naproxen", drug_class="nsaid")
    add("medication", name="Vorapaxar", drug_class="antiplatelet")
    add("allergy", substance="Iohexol", procedure_class="iodinated_contrast", severity="moderate")
    for kind in ("pregnancy", "pacemaker_icd", "active_infection", "diabetes", "bleeding_disorder"):
        add("condition", kind=kind)
    for days_ago, relief in ((5, 20), (60, 30), (120, 40), (200, 30)):
        record(patient, "tfesi_ls", days_ago, relief=relief, steroid="triamcinolone", dose=80)
    record(patient, "mbb_ls", 3, relief=85)
    record(patient, "rfa_ls", 100)
    record(patient, "scs_trial", 30, relief=20)
    return patient


@pytest.mark.parametrize(
    "code", ["tfesi_ls", "rfa_ls", "mbb_ls", "scs_implant", "scs_trial", "trigger_point"]
)
def test_findings_are_complete_and_sorted(busy_patient, code):
    order = ProcedureOrder(
        patient=busy_patient, procedure_type=procedure_type(code), auth_status=AuthStatus.PENDING
    )
    findings = check(busy_patient, code, 2, side="", levels=["L1", "L2", "L3", "L4"], order=order)
    assert {f.severity for f in findings} == {BLOCK, WARN, INFO}
    for finding in findings:
        assert finding.code
        assert finding.reason.strip()
        assert finding.source.strip()
        assert finding.severity in {BLOCK, WARN, INFO}
        assert finding.as_dict()["code"] == finding.code
    ranks = [SEVERITY_ORDER[f.severity] for f in findings]
    assert ranks == sorted(ranks)


def test_every_catalog_procedure_can_be_checked(busy_patient):
    for kind in ProcedureType.objects.all():
        findings = safety_check(
            patient=busy_patient, procedure_type=kind, planned_date=day(2), today=TODAY
        )
        assert all(f.reason and f.source for f in findings), kind.code
        ranks = [SEVERITY_ORDER[f.severity] for f in findings]
        assert ranks == sorted(ranks), kind.code


# --- 12. A fixed number of queries whatever the history size -------------------------------

# thresholds, medications, allergies, conditions, devices, labs, records, their outcomes,
# hold rules, steroids, the chart-driven rules (SafetyRule)
EXPECTED_QUERIES = 11


@pytest.mark.parametrize("history_size", [2, 20])
def test_query_count_does_not_grow_with_history(
    patient, add, django_assert_num_queries, history_size
):
    add("medication", name="Apixaban", drug_class="doac")
    add("condition", kind="diabetes")
    codes = ["tfesi_ls", "mbb_ls", "rfa_ls", "scs_trial", "joint_large"]
    for n in range(history_size):
        steroid = {"steroid": "triamcinolone", "dose": 40} if n % 2 else {}
        record(patient, codes[n % len(codes)], 20 + 30 * n, relief=60 + n % 30, **steroid)
    kind = procedure_type("rfa_ls")
    order = ProcedureOrderFactory(patient=patient, code="rfa_ls", auth_status=AuthStatus.PENDING)
    with django_assert_num_queries(EXPECTED_QUERIES):
        findings = safety_check(
            patient=patient,
            procedure_type=kind,
            planned_date=day(14),
            today=TODAY,
            order=order,
        )
    assert findings


# --- Rules added after the first review ------------------------------------------------------


@pytest.mark.parametrize(
    ("allergy_class", "code", "expected"),
    [
        ("corticosteroid", "tfesi_ls", WARN),
        ("corticosteroid", "mbb_ls", None),
        ("local_anaesthetic", "trigger_point", WARN),
        ("bone_cement", "kyphoplasty", BLOCK),
        ("bone_cement", "tfesi_ls", None),
        ("chlorhexidine", "mbb_ls", WARN),
        ("latex", "mbb_ls", INFO),
    ],
)
def test_procedure_relevant_allergies(patient, add, allergy_class, code, expected):
    add("allergy", substance="x", procedure_class=allergy_class)
    finding = by_code(
        check(patient, code, 14, levels=["L5-S1"] if code != "trigger_point" else [])
    ).get(f"allergy:{allergy_class}")
    assert (finding.severity if finding else None) == expected


def test_cancer_history_before_an_esi_is_a_warning(patient, add):
    add("condition", kind="cancer_history", description="Breast cancer 2019")
    assert by_code(check(patient, "tfesi_ls", 14))["cancer_history"].severity == WARN
    assert "cancer_history" not in by_code(check(patient, "mbb_ls", 14))


def test_an_infection_does_not_stop_a_pump_refill(patient, add):
    add("condition", kind="active_infection", description="Cellulitis")
    assert by_code(check(patient, "itp_refill", 14))["active_infection"].severity == WARN
    assert by_code(check(patient, "tfesi_ls", 14))["active_infection"].severity == BLOCK


def test_pregnancy_blocks_xray_guidance_only(patient, add):
    add("condition", kind="pregnancy")
    assert by_code(check(patient, "stellate_block", 14))["pregnancy"].severity == BLOCK
    assert "ultrasound" in by_code(check(patient, "stellate_block", 14))["pregnancy"].reason
    assert "pregnancy" not in by_code(check(patient, "occipital_block", 14))
    assert "pregnancy" not in by_code(check(patient, "trigger_point", 14))


def test_a_medication_started_after_the_planned_date_is_not_held(patient, add):
    add("medication", name="Apixaban", drug_class="doac", start_date=day(30))
    assert "hold:apixaban" not in by_code(check(patient, "scs_trial", 20))


def test_si_rfa_asks_for_a_positive_diagnostic_block(patient):
    assert by_code(check(patient, "si_rfa", 14))["si_rfa_needs_positive_block"].severity == WARN


def test_the_steroid_warning_level_is_editable(patient):
    two_triamcinolone_80(patient)  # 160 mg of a 200 mg cap: 80%
    assert by_code(check(patient, "tfesi_ls", 14))["steroid_cumulative"].severity == WARN
    set_threshold("steroid_annual_warn_percent", 90)
    assert "steroid_cumulative" not in by_code(check(patient, "tfesi_ls", 14))
