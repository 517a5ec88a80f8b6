"""Every finding says what, why, until when and what to do (issue 20, point 4).

A walk over seeded patients sets off every rule the safety check has; each finding it
returns must carry an until that reads as words and an action. The dates computed from the
data (a hold's restart, the day a steroid or a session is allowed again) are checked against
the rule's own arithmetic, and a date already past reads "eligible now".
"""

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from patients.models import Payer
from procedures.models import AuthStatus, ProcedureOrder, SafetyRule, SafetyThreshold
from procedures.safety import DEFAULT_RULES, Finding
from procedures.tests.factories import TODAY, ProcedureOrderFactory, at, procedure_type, record
from procedures.tests.test_safety import by_code, check, day
from procedures.until import DOES_NOT_EXPIRE, ELIGIBLE_NOW, until_words

pytestmark = pytest.mark.django_db

CONTRAST = {"substance": "Iohexol", "procedure_class": "iodinated_contrast"}
EVICORE = "eviCore-managed commercial plan"


def threshold(key: str) -> int:
    return int(SafetyThreshold.objects.get(key=key).value)


def chart(*entries) -> Callable:
    def put(patient, add):
        for chart_list, fields in entries:
            if chart_list == "lab":
                patient.labs.create(**{"taken_on": TODAY, **fields})
            else:
                add(chart_list, **fields)

    return put


def history(*done) -> Callable:
    """Earlier procedures as (code, days ago, keyword arguments for factories.record)."""

    def put(patient, add):
        for code, days_ago, fields in done:
            record(patient, code, days_ago, **fields)

    return put


def medication(name: str, drug_class: str, **fields) -> Callable:
    return chart(("medication", {"name": name, "drug_class": drug_class, **fields}))


def order(auth_status: str, **fields) -> Callable[..., ProcedureOrder]:
    def make(patient):
        return ProcedureOrderFactory(patient=patient, auth_status=auth_status, **fields)

    return make


# (what it sets off, chart and history, procedure, planned in days, check options)
WALK = [
    ("levels and side", chart(), "mbb_ls", 14, {"side": "", "levels": ["L3-L4", "L4-L5", "L5-S1"]}),
    ("vertebral levels", chart(), "vertebroplasty", 14, {"levels": ["T11", "T12", "L1", "L2"]}),
    ("a hold too late", medication("Apixaban", "doac"), "scs_trial", 2, {}),
    ("a hold in days", medication("Apixaban", "doac"), "scs_trial", 4, {}),
    ("a hold in hours", medication("Heparin", "heparin"), "tfesi_ls", 0, {}),
    ("stopped in time", medication("Apixaban", "doac", end_date=day(-1)), "scs_trial", 10, {}),
    ("stops too late", medication("Apixaban", "doac", end_date=day(8)), "scs_trial", 10, {}),
    ("no hold", medication("Naproxen", "nsaid"), "tfesi_ls", 10, {}),
    ("a shared decision", medication("Apixaban", "doac"), "mbb_ls", 10, {}),
    ("warfarin, no INR", medication("Warfarin", "vitamin_k_antagonist"), "scs_trial", 10, {}),
    (
        "warfarin, a high INR",
        chart(
            ("medication", {"name": "Warfarin", "drug_class": "vitamin_k_antagonist"}),
            ("lab", {"kind": "inr", "value": Decimal("2.0"), "unit": "", "taken_on": day(10)}),
        ),
        "scs_trial",
        10,
        {},
    ),
    ("unclassified", medication("Zorblatin", ""), "mbb_ls", 10, {}),
    ("no hold rule", medication("Vorapaxar", "antiplatelet"), "mbb_ls", 10, {}),
    ("low platelets", chart(("lab", {"kind": "platelets", "value": 80, "unit": "10^9/L"})), "scs_trial", 10, {}),
    ("contrast", chart(("allergy", {**CONTRAST, "severity": "moderate"})), "tfesi_ls", 14, {}),
    ("contrast anaphylaxis", chart(("allergy", {**CONTRAST, "severity": "anaphylaxis"})), "tfesi_ls", 14, {}),
    ("pregnancy", chart(("condition", {"kind": "pregnancy"})), "tfesi_ls", 14, {}),
    ("pregnancy, augmentation", chart(("condition", {"kind": "pregnancy"})), "kyphoplasty", 14, {}),
    ("pacemaker", chart(("device", {"kind": "pacemaker"})), "rfa_ls", 14, {}),
    ("pacemaker, PNS", chart(("device", {"kind": "pacemaker"})), "pns", 14, {}),
    ("infection", chart(("condition", {"kind": "active_infection"})), "tfesi_ls", 14, {}),
    ("infection, refill", chart(("condition", {"kind": "active_infection"})), "itp_refill", 14, {}),
    (
        "allergies",
        chart(
            *[
                ("allergy", {"substance": name, "procedure_class": kind})
                for name, kind in [
                    ("Triamcinolone", "corticosteroid"),
                    ("Lidocaine", "local_anaesthetic"),
                    ("Chlorhexidine", "chlorhexidine"),
                    ("Latex", "latex"),
                    ("PMMA", "bone_cement"),
                ]
            ]
        ),
        "vertebroplasty",
        14,
        {"levels": ["L1"]},
    ),
    ("corticosteroid allergy", chart(("allergy", {"substance": "Kenalog", "procedure_class": "corticosteroid"})), "tfesi_ls", 14, {}),
    ("cancer", chart(("condition", {"kind": "cancer_history"})), "tfesi_ls", 14, {}),
    ("diabetes", chart(("condition", {"kind": "diabetes"})), "tfesi_ls", 14, {}),
    ("bleeding disorder", chart(("condition", {"kind": "bleeding_disorder"})), "scs_trial", 14, {}),
    ("opioid and sedation", medication("Oxycodone", "opioid"), "scs_trial", 14, {}),
    ("session limit", history(*[("tfesi_ls", d, {}) for d in (30, 100, 200, 300)]), "tfesi_ls", 30, {}),
    ("second block too soon", history(("mbb_ls", 9, {"relief": 90})), "mbb_ls", 1, {}),
    ("two positive blocks", history(("mbb_ls", 60, {"relief": 85}), ("mbb_ls", 40, {"relief": 90})), "rfa_ls", 14, {}),
    ("one positive block", history(("mbb_ls", 60, {"relief": 85})), "rfa_ls", 14, {}),
    (
        "repeat RFA",
        history(("mbb_ls", 500, {"relief": 90}), ("mbb_ls", 480, {"relief": 90}), ("rfa_ls", 300, {})),
        "rfa_ls",
        14,
        {},
    ),
    ("ESI retry too soon", history(("tfesi_ls", 10, {})), "tfesi_ls", 2, {}),
    ("ESI without a response", history(("tfesi_ls", 100, {})), "tfesi_ls", 14, {}),
    ("trigger points without a response", history(("trigger_point", 60, {})), "trigger_point", 14, {}),
    ("a level treated before", history(("vertebroplasty", 100, {"levels": ["L1"]})), "vertebroplasty", 14, {"levels": ["L1"]}),
    ("a positive genicular block", history(("genicular_block", 30, {"relief": 80, "side": "left"})), "genicular_rfa", 14, {}),
    ("no genicular block", chart(), "genicular_rfa", 14, {}),
    ("a positive SI block", history(("si_lateral_branch_block", 30, {"relief": 90})), "si_rfa", 14, {}),
    ("no SI block", chart(), "si_rfa", 14, {}),
    ("no stimulator trial", chart(), "scs_implant", 14, {}),
    ("a failed stimulator trial", history(("scs_trial", 30, {"relief": 20})), "scs_implant", 14, {}),
    ("steroid too soon", history(("joint_large", 2, {"steroid": "triamcinolone", "dose": 40})), "tfesi_ls", 8, {}),
    (
        "steroid over the cap",
        history(*[("joint_large", d, {"steroid": "triamcinolone", "dose": 80}) for d in (60, 120, 180)]),
        "tfesi_ls",
        14,
        {},
    ),
    (
        "steroid near the cap",
        history(("joint_large", 60, {"steroid": "triamcinolone", "dose": 80}), ("joint_large", 120, {"steroid": "triamcinolone", "dose": 80})),
        "tfesi_ls",
        14,
        {},
    ),
    ("steroid this session", history(("tfesi_ls", 0, {"steroid": "triamcinolone", "dose": 80})), "tfesi_ls", 0, {"side": "right"}),
    ("sedation", chart(), "scs_trial", 14, {}),
]  # fmt: skip

# (what, how prior authorization stands): each with an order for a lumbar ESI in 14 days.
AUTHORIZATIONS = [
    ("denied", order(AuthStatus.DENIED)),
    ("pending", order(AuthStatus.PENDING)),
    ("requested", order(AuthStatus.REQUESTED, auth_requested_at=at(day(-2)))),
    ("expiring", order(AuthStatus.APPROVED, auth_number="PA-1", auth_expires=day(10))),
]


def walk_findings(add_fixture) -> list[Finding]:
    """Every finding the walk's patients set off (each scenario on a patient of its own)."""
    from patients.tests.factories import PatientFactory

    found = []
    for _what, put, code, in_days, options in WALK:
        someone = PatientFactory()
        put(someone, add_fixture(someone))
        found += check(someone, code, in_days, **options)
    eviCore = PatientFactory(payer=Payer.objects.get(name=EVICORE))
    for days_before in (150, 100, 50):
        record(eviCore, "tfesi_ls", days_before - 30)
    found += check(eviCore, "tfesi_ls", 30)
    for _what, make in AUTHORIZATIONS:
        someone = PatientFactory()
        found += check(someone, "tfesi_ls", 14, order=make(someone))
    return found


@pytest.fixture
def adder(clinician_user):
    from clinic.users.actor import Actor
    from patients import services as chart_services

    def for_patient(someone):
        def add_entry(chart_list: str, **fields):
            return chart_services.clinical_entry_add(
                patient=someone, chart_list=chart_list, by=Actor.desk(clinician_user), **fields
            )

        return add_entry

    return for_patient


@pytest.fixture
def patient(db):
    from patients.tests.factories import PatientFactory

    return PatientFactory()


@pytest.fixture
def add(adder, patient):
    return adder(patient)


def codes_in_the_rules() -> set[str]:
    """The finding codes the rules' source names, up to the first ':' of a keyed code."""
    found = set()
    for module in ("safety.py", "holds.py"):
        text = (Path(__file__).parents[1] / module).read_text()
        found |= set(re.findall(r'Finding\(\s*f?"([a-z_0-9]+)', text))
    return found


def prefix(code: str) -> str:
    return code.split(":")[0]


def test_every_rules_finding_says_until_when_and_what_to_do(adder):
    findings = walk_findings(adder)
    assert {prefix(f.code) for f in findings} >= codes_in_the_rules()
    for finding in findings:
        stored = finding.as_dict()
        assert until_words(stored["until"], TODAY), finding.code
        assert stored["action"].strip(), finding.code
        assert stored["until"]["kind"] in {"date", "condition", "never"}
        if stored["until"]["kind"] == "date":
            date.fromisoformat(stored["until"]["date"])
    # The chart-driven rules: every editable row's until and action reached a finding.
    actions = {f.action for f in findings}
    for key, rule in DEFAULT_RULES.items():
        assert rule.action in actions, key


def test_every_hold_variant_and_authorization_has_its_own_action(adder):
    findings = walk_findings(adder)
    holds = {f.action for f in findings if f.code.startswith("hold:")}
    assert len(holds) >= 6  # too late, in days, in hours, stopped, stops late, none, shared
    auth = {f.action for f in findings if f.code == "prior_auth"}
    assert len(auth) == 4


# --- Dates computed from the data ---------------------------------------------------------


def test_a_hold_stands_until_the_restart_and_says_from_when(patient, add):
    add("medication", name="Apixaban", drug_class="doac")
    planned = day(10)
    finding = by_code(check(patient, "scs_trial", 10))["hold:apixaban"]
    first = date.fromisoformat(finding.details["first_day_without"])
    hold_days = -(-finding.details["hold_hours"] // 24)
    assert first == planned - timedelta(days=hold_days)  # the procedure day less the hold
    restart = date.fromisoformat(finding.details["restart_on"])
    assert restart > planned
    until = finding.as_dict()["until"]
    assert (until["kind"], until["date"], until["eligible"]) == ("date", restart.isoformat(), False)
    assert f"no Apixaban from {first.isoformat()}" in until["text"]
    assert first.isoformat() in finding.action and "prescriber" in finding.action


def test_a_hold_started_too_late_gives_the_earliest_safe_day(patient, add):
    add("medication", name="Apixaban", drug_class="doac")
    finding = by_code(check(patient, "scs_trial", 2))["hold:apixaban"]
    earliest = date.fromisoformat(finding.details["earliest_safe_date"])
    until = finding.as_dict()["until"]
    assert (until["date"], until["eligible"]) == (earliest.isoformat(), True)
    assert until_words(until, TODAY) == f"Until {earliest:%Y-%m-%d}: {until['text']}"
    assert until_words(until, earliest) == ELIGIBLE_NOW
    assert earliest.isoformat() in finding.action


def test_the_steroid_interval_until_is_the_eligibility_date(patient):
    record(patient, "joint_large", 2, steroid="triamcinolone", dose=40)
    finding = by_code(check(patient, "tfesi_ls", 8))["steroid_interval"]
    earliest = day(-2) + timedelta(days=threshold("steroid_min_interval_days"))
    until = finding.as_dict()["until"]
    assert (until["date"], until["eligible"]) == (earliest.isoformat(), True)
    assert until_words(until, earliest - timedelta(days=1)).startswith(f"Until {earliest}")
    assert until_words(until, earliest) == ELIGIBLE_NOW
    assert until_words(until, earliest + timedelta(days=30)) == ELIGIBLE_NOW


def test_the_session_limit_until_is_the_day_it_is_covered_again(patient):
    for days_ago in (30, 100, 200, 300):
        record(patient, "tfesi_ls", days_ago)
    finding = by_code(check(patient, "tfesi_ls", 30))["session_limit:esi_max_sessions"]
    # The oldest session (300 days ago) leaves the 365-day window the day after 365 days.
    covered = day(-300) + timedelta(days=threshold("frequency_window_days") + 1)
    assert finding.details["covered_from"] == covered.isoformat()
    until = finding.as_dict()["until"]
    assert (until["date"], until["eligible"]) == (covered.isoformat(), True)
    assert covered.isoformat() in finding.action


def test_the_cumulative_steroid_until_is_when_old_doses_leave_the_window(patient):
    for days_ago in (60, 120, 180):  # 3 x 80 mg triamcinolone = 240 mg, cap 200
        record(patient, "joint_large", days_ago, steroid="triamcinolone", dose=80)
    finding = by_code(check(patient, "tfesi_ls", 14))["steroid_cumulative"]
    # Once the dose of 180 days ago leaves the window, 160 mg remain: under the cap.
    under = day(-180) + timedelta(days=threshold("frequency_window_days") + 1)
    until = finding.as_dict()["until"]
    assert (until["date"], until["eligible"]) == (under.isoformat(), True)
    assert finding.details["under_limit_from"] == under.isoformat()


def test_the_second_block_and_the_esi_retry_wait_for_their_intervals(patient):
    record(patient, "mbb_ls", 9, relief=90)
    block = by_code(check(patient, "mbb_ls", 1))["mbb_interval"]
    second = day(-9) + timedelta(days=threshold("mbb_second_block_min_days"))
    assert block.as_dict()["until"]["date"] == second.isoformat()
    record(patient, "tfesi_ls", 10)
    retry = by_code(check(patient, "tfesi_ls", 2))["esi_retry_interval"]
    again = day(-10) + timedelta(days=threshold("esi_retry_min_days"))
    assert retry.as_dict()["until"] == {
        "kind": "date",
        "text": "a repeat may be done from this day",
        "date": again.isoformat(),
        "eligible": True,
    }


def test_conditions_and_lasting_findings_read_as_words(patient, add):
    add("condition", kind="active_infection")
    add("allergy", substance="Latex", procedure_class="latex")
    add("medication", name="Warfarin", drug_class="vitamin_k_antagonist")
    patient.labs.create(kind="inr", value=Decimal("2.0"), unit="", taken_on=day(10))
    found = by_code(check(patient, "scs_trial", 10))
    assert until_words(found["active_infection"].as_dict()["until"], TODAY) == (
        "Until the infection is treated and its entry on the chart is closed"
    )
    assert until_words(found["allergy:latex"].as_dict()["until"], TODAY) == DOES_NOT_EXPIRE
    limit = SafetyThreshold.objects.get(key="inr_normal_max").value.normalize()
    assert until_words(found["inr_abnormal"].as_dict()["until"], TODAY) == (
        f"Until the INR is {limit:f} or lower"
    )


def test_a_managers_wording_of_until_and_action_reaches_the_finding(patient, add):
    SafetyRule.objects.filter(key="active_infection").update(
        until="the course of antibiotics is finished", action="Call the patient."
    )
    add("condition", kind="active_infection")
    finding = by_code(check(patient, "tfesi_ls", 14))["active_infection"]
    assert finding.as_dict()["until"]["text"] == "the course of antibiotics is finished"
    assert finding.action == "Call the patient."
    SafetyRule.objects.filter(key="active_infection").update(until="")
    blank = by_code(check(patient, "tfesi_ls", 14))["active_infection"]
    assert until_words(blank.as_dict()["until"], TODAY) == DOES_NOT_EXPIRE


def test_a_saved_finding_without_until_reads_nothing():
    assert until_words(None, TODAY) == ""
    assert until_words({}, TODAY) == ""


def test_findings_are_stored_with_until_and_action(patient, add, clinician_user):
    from clinic.users.actor import Actor
    from procedures import services

    add("condition", kind="active_infection")
    saved = services.order_create(
        patient=patient,
        procedure_type=procedure_type("tfesi_ls"),
        by=Actor.desk(clinician_user),
        side="left",
        levels=["L4-L5"],
        indication_code="M54.16",
        indication_text="Lumbar radiculopathy",
        auth_status=AuthStatus.NOT_NEEDED,
    )
    saved.refresh_from_db()
    (infection,) = [f for f in saved.findings if f["code"] == "active_infection"]
    assert infection["until"]["kind"] == "condition" and infection["action"]


def test_the_page_judges_eligible_now_on_the_day_at_the_visits_location():
    """The desk's booking review passes today at the visit's location (`finding_day`); other
    pages judge on today in the clinic's zone. Around midnight the two differ."""
    from django.template.loader import render_to_string
    from django.utils import timezone

    clinic_today = timezone.localdate()
    finding = {
        "until": {"kind": "date", "date": clinic_today.isoformat(), "eligible": True, "text": ""},
        "action": "Book the injection.",
    }

    def shown(**context) -> str:
        return render_to_string(
            "procedures/_finding_until_action.html", {"finding": finding, **context}
        )

    assert ELIGIBLE_NOW in shown()
    behind = shown(finding_day=clinic_today - timedelta(days=1))  # the location's day is behind
    assert ELIGIBLE_NOW not in behind and f"Until {clinic_today:%Y-%m-%d}" in behind
    assert ELIGIBLE_NOW in shown(finding_day=clinic_today)
    assert "What to do: Book the injection." in behind
