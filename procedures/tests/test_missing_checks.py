"""Issue 14 point 8: the checks a pain physician expects, each an editable rule with its source
and certainty, table-driven through the service and the safety-check API; and the leftover:
the steroid per-session maximum summed over a same-day session.

Service dates are relative to TODAY (2026-06-15), passed to safety_check as `today`; the API
checks a date 30 days after the real today (these rules do not depend on the date).
"""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic.core.errors import ValidationFailed
from clinic.users.actor import Actor
from patients import services as chart
from patients.models import Assessment
from patients.tests.factories import PatientFactory
from procedures import services
from procedures.models import AnticoagulantRule, SafetyRule, SafetyThreshold, Steroid
from procedures.safety import BLOCK, INFO, WARN, safety_check
from procedures.tests.factories import TODAY, ProcedureRecordFactory, at, procedure_type, record

pytestmark = pytest.mark.django_db

HIGH_RISK = [
    "scs_trial",
    "scs_implant",
    "itp_trial",
    "itp_implant",
    "vertebroplasty",
    "kyphoplasty",
]


def check(patient, code: str, in_days: int = 14, **options):
    levels = ["L4"] if code in ("vertebroplasty", "kyphoplasty") else []
    return safety_check(
        patient=patient,
        procedure_type=procedure_type(code),
        planned_date=TODAY + timedelta(days=in_days),
        side="left",
        levels=options.pop("levels", levels),
        today=TODAY,
        **options,
    )


def by_code(findings) -> dict:
    return {f.code: f for f in findings}


def api_findings(client, patient, code: str) -> dict:
    levels = ["L4"] if code in ("vertebroplasty", "kyphoplasty") else []
    answer = client.post(
        "/api/v1/safety-check/",
        {
            "patient": str(patient.id),
            "procedure_type": code,
            "planned_date": str(timezone.localdate() + timedelta(days=30)),
            "side": "left",
            "levels": levels,
        },
        format="json",
    )
    assert answer.status_code == 200, answer.content
    return {f["code"]: f for f in answer.json()["findings"]}


@pytest.fixture
def patient(db):
    return PatientFactory()


@pytest.fixture
def add(patient, clinician_user):
    def add_entry(chart_list: str, **fields):
        return chart.clinical_entry_add(
            patient=patient, chart_list=chart_list, by=Actor.desk(clinician_user), **fields
        )

    return add_entry


@pytest.fixture
def api(api_as, clinician_user):
    return api_as(clinician_user)


# --- SSRIs, SNRIs and supplements (holds_n18_extra.csv, ASRA 2018) -------------------------

# (medication as typed, the hold rule's drug class) — one hold row per group, no duplicate rule.
SHARED_DECISION_DRUGS = [
    ("Sertraline", "ssri"),
    ("Zoloft", "ssri"),
    ("Lexapro", "ssri"),
    ("Duloxetine", "snri"),
    ("Cymbalta", "snri"),
    ("Effexor XR", "snri"),
    ("Fish oil", "supplement"),
    ("Ginkgo biloba", "supplement"),
    ("Garlic extract", "supplement"),
    ("Ginseng", "supplement"),
]


def hold_finding(findings, drug_class: str):
    rules = {r.drug for r in AnticoagulantRule.objects.filter(drug_class=drug_class)}
    found = [f for f in findings if f.code.removeprefix("hold:") in rules]
    assert len(found) == 1, [f.code for f in findings]
    return found[0]


@pytest.mark.parametrize(("name", "drug_class"), SHARED_DECISION_DRUGS)
@pytest.mark.parametrize("code", HIGH_RISK)
def test_ssri_snri_and_supplements_are_a_shared_decision_before_high_risk(
    patient, add, name, drug_class, code
):
    assert procedure_type(code).bleeding_risk == "high"
    add("medication", name=name)
    finding = hold_finding(check(patient, code), drug_class)
    assert finding.severity == WARN
    assert "shared decision with the prescriber" in finding.reason
    assert "value to confirm with your clinic's policy" in finding.source
    assert "ASRA Pain Medicine" in finding.source and "N18" not in finding.source


@pytest.mark.parametrize(("name", "drug_class"), SHARED_DECISION_DRUGS)
@pytest.mark.parametrize("code", ["tfesi_ls", "mbb_ls", "trigger_point"])
def test_ssri_snri_and_supplements_need_no_hold_below_high_risk(
    patient, add, name, drug_class, code
):
    add("medication", name=name)
    finding = hold_finding(check(patient, code), drug_class)
    assert finding.severity == INFO and "no hold needed" in finding.reason


def test_each_group_has_exactly_one_hold_rule():
    for drug_class in ("ssri", "snri", "cox2_inhibitor"):
        assert AnticoagulantRule.objects.filter(drug_class=drug_class).count() == 1
    supplements = AnticoagulantRule.objects.filter(drug_class="supplement")
    names = {n for rule in supplements for n in rule.match_names}
    assert {"ginkgo biloba", "garlic extract", "ginseng"} <= names
    assert any("omega-3" in n for n in names)
    for rule in AnticoagulantRule.objects.filter(
        drug_class__in=["ssri", "snri", "supplement", "cox2_inhibitor"]
    ):
        assert rule.certain is False
        assert rule.intermediate_decision == rule.low_decision == "no_hold"


@pytest.mark.parametrize("code", ["scs_trial", "tfesi_ls", "mbb_ls"])
@pytest.mark.parametrize("name", ["Celecoxib", "Celebrex"])
def test_celecoxib_gets_no_warning(patient, add, name, code):
    add("medication", name=name)
    findings = check(patient, code)
    about_it = [f for f in findings if name in f.reason or "celecoxib" in f.code]
    assert about_it and all(f.severity == INFO for f in about_it)


def test_ssri_through_the_api(api, patient, add):
    add("medication", name="Prozac")
    found = api_findings(api, patient, "scs_trial")
    holds = [f for f in found.values() if f["code"].startswith("hold:")]
    assert [h["severity"] for h in holds] == [WARN]
    assert "shared decision" in holds[0]["reason"]


# --- The chart-driven rules (SafetyRule rows), table-driven --------------------------------

CONTRAST = {"substance": "Iohexol", "procedure_class": "iodinated_contrast"}

# (chart entries, procedure, finding code, severity or None, words the reason must have)
CASES = [
    # Opioids with planned or possible sedation.
    ([("medication", {"name": "Oxycodone"})], "scs_trial", "opioid_sedation", WARN, ["Oxycodone", "respiratory depression", "No Opioid Risk Tool"]),
    ([("medication", {"name": "Percocet"})], "kyphoplasty", "opioid_sedation", WARN, ["Percocet", "naloxone"]),
    ([("medication", {"name": "Tramadol"})], "tfesi_ls", "opioid_sedation", None, []),  # no sedation
    ([("medication", {"name": "Oxycodone"})], "trigger_point", "opioid_sedation", None, []),
    ([("medication", {"name": "Sertraline"})], "scs_trial", "opioid_sedation", None, []),
    # A pacemaker or ICD with peripheral nerve stimulation, as with SCS and RFA.
    ([("device", {"kind": "pacemaker"})], "pns", "cardiac_device", BLOCK, ["peripheral nerve stimulator", "device plan"]),
    ([("device", {"kind": "icd"})], "pns", "cardiac_device", BLOCK, ["device plan"]),
    ([("condition", {"kind": "pacemaker_icd"})], "pns", "cardiac_device", BLOCK, ["device plan"]),
    ([("device", {"kind": "spinal_cord_stimulator"})], "pns", "cardiac_device", None, []),
    ([("device", {"kind": "pacemaker"})], "occipital_block", "cardiac_device", None, []),
    ([("device", {"kind": "pacemaker"})], "scs_trial", "cardiac_device", BLOCK, ["spinal cord stimulation"]),
    # Contrast allergy: the ACR premedication protocol, or no contrast after anaphylaxis.
    ([("allergy", {**CONTRAST, "severity": "moderate"})], "tfesi_ls", "contrast_allergy", WARN, ["prednisone 50 mg", "13, 7 and 1 hours", "diphenhydramine 50 mg", "methylprednisolone 32 mg"]),
    ([("allergy", {**CONTRAST, "severity": "mild"})], "si_injection", "contrast_allergy", WARN, ["prednisone 50 mg"]),
    ([("allergy", {**CONTRAST, "severity": "anaphylaxis"})], "tfesi_ls", "contrast_allergy", BLOCK, ["without contrast"]),
    ([("allergy", {**CONTRAST, "severity": "moderate"})], "trigger_point", "contrast_allergy", None, []),
    # Diabetes and a steroid: a glucose check, with the editable threshold.
    ([("condition", {"kind": "diabetes"})], "tfesi_ls", "diabetes_steroid", WARN, ["glucose", "above 250 mg/dL"]),
    ([("condition", {"kind": "diabetes"})], "joint_large", "diabetes_steroid", WARN, ["above 250 mg/dL"]),
    ([("condition", {"kind": "diabetes"})], "rfa_ls", "diabetes_steroid", None, []),
    # Fluoroscopy in pregnancy: a block a clinician must override.
    ([("condition", {"kind": "pregnancy"})], "tfesi_ls", "pregnancy", BLOCK, ["fluoroscopy"]),
    ([("condition", {"kind": "pregnancy"})], "pns", "pregnancy", BLOCK, ["plan ultrasound guidance"]),
    ([("condition", {"kind": "pregnancy"})], "kyphoplasty", "pregnancy", BLOCK, ["absolute contraindication"]),
    ([("condition", {"kind": "pregnancy"})], "occipital_block", "pregnancy", None, []),
    # Platelets: a count for high-risk procedures; N18 sets none for intermediate risk.
    ([], "scs_trial", "lab_missing:platelets", WARN, ["platelet count"]),
    ([], "tfesi_ls", "lab_missing:platelets", None, []),
    ([("lab", {"kind": "platelets", "value": 80})], "scs_trial", "platelets_low", BLOCK, ["below 100"]),
]  # fmt: skip


def put_on_chart(patient, add, entries, taken_on):
    for chart_list, fields in entries:
        if chart_list == "lab":
            patient.labs.create(unit="10^9/L", taken_on=taken_on, **fields)
        else:
            add(chart_list, **fields)


@pytest.mark.parametrize(("entries", "code", "finding", "severity", "words"), CASES)
def test_chart_rules_through_the_service(patient, add, entries, code, finding, severity, words):
    put_on_chart(patient, add, entries, TODAY)
    found = by_code(check(patient, code))
    if severity is None:
        assert finding not in found
        return
    assert found[finding].severity == severity
    said = f"{found[finding].reason} {found[finding].action}"  # what and why, what to do
    for word in words:
        assert word in said


@pytest.mark.parametrize(("entries", "code", "finding", "severity", "words"), CASES)
def test_chart_rules_through_the_api(api, patient, add, entries, code, finding, severity, words):
    put_on_chart(patient, add, entries, timezone.localdate() + timedelta(days=29))
    found = api_findings(api, patient, code)
    if severity is None:
        assert finding not in found
        return
    assert found[finding]["severity"] == severity
    said = f"{found[finding]['reason']} {found[finding]['action']}"
    for word in words:
        assert word in said


@pytest.mark.parametrize(
    ("total", "band", "words"),
    [
        (Decimal(9), "high", ["Opioid Risk Tool 9 (high)", "misuse"]),
        (Decimal(2), "low", ["2 (low)"]),
    ],
)
def test_opioid_finding_names_the_opioid_risk_tool(patient, add, total, band, words):
    add("medication", name="OxyContin")
    Assessment.objects.create(
        patient=patient, instrument="ort", items={}, total=total, band=band, taken_at=at(TODAY)
    )
    finding = by_code(check(patient, "scs_trial"))["opioid_sedation"]
    for word in words:
        assert word in finding.reason
    assert finding.details["ort_band"] == band


def test_every_rule_row_has_a_source_and_certainty_and_the_shipped_values():
    from procedures.catalog import SAFETY_RULES

    rows = {r.key: r for r in SafetyRule.objects.all()}
    assert set(rows) == {key for key, *_ in SAFETY_RULES}
    for shipped in SAFETY_RULES:
        row = rows[shipped.key]
        assert (row.severity, row.source, row.certain) == (
            shipped.severity,
            shipped.source,
            shipped.certain,
        )
        # 0017 gave every shipped row its until and action, and its advice without the action
        assert (row.advice, row.until, row.action) == (
            shipped.advice,
            shipped.until,
            shipped.action,
        )
        assert row.action.strip()
    assert rows["contrast_allergy"].certain is False  # ACR values from its summaries
    glucose = SafetyThreshold.objects.get(key="diabetes_glucose_max")
    assert glucose.value == 250 and glucose.certain is False


@pytest.mark.parametrize(
    ("key", "entry", "code", "finding", "before", "after"),
    [
        ("allergy:latex", ("allergy", {"substance": "Latex", "procedure_class": "latex"}), "mbb_ls", "allergy:latex", INFO, WARN),
        ("cancer_history", ("condition", {"kind": "cancer_history", "description": "Breast"}), "tfesi_ls", "cancer_history", WARN, BLOCK),
        ("opioid_sedation", ("medication", {"name": "Oxycodone"}), "scs_trial", "opioid_sedation", WARN, BLOCK),
        ("cardiac_device_pns", ("device", {"kind": "pacemaker"}), "pns", "cardiac_device", BLOCK, WARN),
        ("active_infection_refill", ("condition", {"kind": "active_infection", "description": "UTI"}), "itp_refill", "active_infection", WARN, BLOCK),
    ],
)  # fmt: skip
def test_a_rule_severity_edit_changes_the_next_check(
    patient, add, key, entry, code, finding, before, after
):
    add(entry[0], **entry[1])
    assert by_code(check(patient, code))[finding].severity == before
    SafetyRule.objects.filter(key=key).update(severity=after, advice="Edited advice.")
    changed = by_code(check(patient, code))[finding]
    assert changed.severity == after and "Edited advice." in changed.reason


def test_the_glucose_threshold_is_editable(patient, add):
    add("condition", kind="diabetes")
    SafetyThreshold.objects.filter(key="diabetes_glucose_max").update(value=200)
    assert "above 200 mg/dL" in by_code(check(patient, "tfesi_ls"))["diabetes_steroid"].reason


def test_pregnancy_block_needs_a_clinicians_override(patient, add, clinician_user):
    add("condition", kind="pregnancy")
    by = Actor.desk(clinician_user)
    order = services.order_create(
        patient=patient,
        procedure_type=procedure_type("tfesi_ls"),
        by=by,
        side="left",
        levels=["L4-L5"],
        indication_code="M54.16",
        indication_text="Radiculopathy",
        planned_date=timezone.localdate() + timedelta(days=30),
    )
    assert "pregnancy" in {b["code"] for b in services.unresolved_blocks(order)}
    services.order_override(order=order, finding_code="pregnancy", reason="Ultrasound", by=by)
    order.refresh_from_db()
    assert "pregnancy" not in {b["code"] for b in services.unresolved_blocks(order)}


# --- Steroid per session: summed over the same-day session (leftover) -------------------------


def steroid(name: str) -> Steroid:
    return Steroid.objects.get(name=name)


@pytest.fixture
def record_esi(patient, clinician_user):
    seed = ProcedureRecordFactory(patient=patient, code="joint_large")

    def record_one(*, side: str, drug: str, dose, code="tfesi_ls", hour=time(10, 0), days_ago=1):
        levels = ["L4-L5"] if code == "tfesi_ls" else []
        return services.record_create(
            by=Actor.desk(clinician_user),
            patient=patient,
            procedure_type=procedure_type(code),
            performed_at=at(TODAY - timedelta(days=days_ago), hour),
            performer=seed.performer,
            location=seed.location,
            side=side,
            levels=levels,
            guidance="fluoroscopy",
            pre_nrs=7,
            post_nrs=2,
            steroid=steroid(drug),
            steroid_dose_mg=Decimal(str(dose)),
        )

    return record_one


# (first side: steroid, dose; second side: steroid, dose; refused?)
SESSION_CASES = [
    ("triamcinolone", 40, "triamcinolone", 40, False),  # 80 of 80 mg
    ("triamcinolone", 40, "triamcinolone", 50, True),  # 90 mg
    ("triamcinolone", 80, "triamcinolone", 10, True),
    ("dexamethasone", 10, "dexamethasone", 5, False),  # 15 of 15 mg
    ("dexamethasone", 10, "dexamethasone", 6, True),
    ("betamethasone", 6, "betamethasone", 7, True),  # 13 of 12 mg
    ("triamcinolone", 40, "dexamethasone", 7.5, False),  # half of each maximum
    ("triamcinolone", 40, "dexamethasone", 10, True),
]


@pytest.mark.parametrize(("drug1", "dose1", "drug2", "dose2", "refused"), SESSION_CASES)
def test_the_per_session_maximum_counts_both_sides_of_one_day(
    record_esi, drug1, dose1, drug2, dose2, refused
):
    record_esi(side="left", drug=drug1, dose=dose1)
    if not refused:
        record_esi(side="right", drug=drug2, dose=dose2)
        return
    with pytest.raises(ValidationFailed) as error:
        record_esi(side="right", drug=drug2, dose=dose2)
    message = error.value.fields["steroid_dose_mg"][0]
    assert "per-session maximum" in message and "already given in this session" in message


def test_another_day_or_region_is_another_session(record_esi):
    record_esi(side="left", drug="triamcinolone", dose=80)
    record_esi(side="right", drug="triamcinolone", dose=80, days_ago=2)  # the day before
    record_esi(side="right", drug="triamcinolone", dose=80, code="joint_large")  # another region


def test_an_evening_session_is_counted_on_its_local_day(record_esi):
    # 20:30 in New York is the next day in UTC; 09:00 the same local day.
    record_esi(side="left", drug="triamcinolone", dose=60, hour=time(20, 30))
    with pytest.raises(ValidationFailed):
        record_esi(side="right", drug="triamcinolone", dose=40, hour=time(9, 0))


@pytest.mark.parametrize(("dose", "severity", "used"), [(40, WARN, "50%"), (80, BLOCK, "100%")])
def test_the_safety_check_shows_what_is_left_of_the_session(patient, dose, severity, used):
    record(patient, "tfesi_ls", 0, steroid="triamcinolone", dose=dose, side="left")
    finding = by_code(check(patient, "tfesi_ls", 0, levels=["L4-L5"]))["steroid_session_max"]
    assert finding.severity == severity and used in finding.reason
    assert "steroid_session_max" not in by_code(check(patient, "tfesi_ls", 20, levels=["L4-L5"]))
