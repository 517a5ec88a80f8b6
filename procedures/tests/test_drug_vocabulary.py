"""Issue 14, points 1, 3, 4 and 10: drug names as people write them, labs, indication, and
hold findings a physician and a patient can act on. Table-driven from the shipped CSVs.

Dates are relative to TODAY (2026-06-15), passed to safety_check as `today`.
"""

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.core.errors import Forbidden
from clinic.users.actor import Actor
from patients import services as chart
from patients.models import Classification, Medication
from patients.tests.factories import PatientFactory
from procedures.catalog import DATA, resolve_existing_medications
from procedures.models import SafetyThreshold
from procedures.safety import BLOCK, INFO, WARN, safety_check
from procedures.tests.factories import TODAY, procedure_type

SHARED = Path(__file__).resolve().parents[3] / "shared" / "domain" / "vocabulary"


def vocabulary_rows() -> list[dict]:
    with (DATA / "vocabulary" / "drug_names.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


ROWS = vocabulary_rows()
BRANDS = [r for r in ROWS if r["kind"] in ("brand", "combination")]


TODAY_REAL = timezone.localdate()


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def check(patient, code: str, in_days: int) -> list:
    return safety_check(
        patient=patient,
        procedure_type=procedure_type(code),
        planned_date=day(in_days),
        side="left",
        today=TODAY,
    )


def by_code(findings) -> dict:
    return {f.code: f for f in findings}


@pytest.fixture
def patient(db):
    return PatientFactory()


@pytest.fixture
def clinician(clinician_user):
    return Actor.desk(clinician_user)


@pytest.fixture
def add(patient, clinician):
    def add_medication(name: str, **fields) -> Medication:
        return chart.clinical_entry_add(
            patient=patient, chart_list="medication", by=clinician, name=name, **fields
        )

    return add_medication


@pytest.fixture
def lab(patient, clinician):
    def record(kind: str, value, taken: int):
        return chart.lab_record(
            patient=patient, by=clinician, kind=kind, value=value, taken_on=day(taken)
        )

    return record


def set_threshold(key: str, value) -> None:
    assert SafetyThreshold.objects.filter(key=key).update(value=value) == 1


# --- The vocabulary ---------------------------------------------------------------------------


def test_the_shipped_vocabulary_is_the_shared_one():
    if not SHARED.exists():
        pytest.skip("shared/domain is not beside this checkout")
    assert (DATA / "vocabulary" / "drug_names.csv").read_text() == (
        SHARED / "drug_names.csv"
    ).read_text()


@pytest.mark.parametrize("row", ROWS, ids=[r["name"] for r in ROWS])
def test_every_listed_name_resolves_to_its_generics_and_class(add, row):
    generics = [g.strip() for g in row["generic"].split("+")]
    for typed in (row["name"], f"  {row['name'].upper()}  ", row["name"].replace("-", " ")):
        medication = add(typed)
        assert medication.generics == generics, typed
        assert row["class"] in medication.drug_classes
        assert medication.drug_class == row["class"]
        assert medication.classification == Classification.VOCABULARY
        assert medication.name == typed  # kept as typed


@pytest.mark.parametrize(
    ("typed", "generics"),
    [
        ("Eliquis 5 mg twice daily", ["apixaban"]),
        ("eliquis5mg", ["apixaban"]),
        ("low-dose aspirin", ["aspirin"]),
        ("BayerAspirin 81", ["aspirin"]),
        ("Aspirin and Plavix", ["aspirin", "clopidogrel"]),
        ("Aggrenox", ["aspirin", "dipyridamole"]),
        ("hydrocodone/acetaminophen 5/325", ["hydrocodone", "acetaminophen"]),
        ("Gabapentin 300 mg", ["gabapentin"]),
        ("insulin glargine", ["insulin"]),
    ],
)
def test_names_inside_what_people_write(add, typed, generics):
    assert add(typed).generics == generics


def test_an_unknown_name_is_kept_and_flagged_before_any_procedure(add, patient, clinician):
    medication = add("Zorblatin", drug_class="")
    assert medication.classification == Classification.UNRECOGNISED
    assert medication.generics == []
    for code in ("mbb_ls", "tfesi_ls", "scs_trial"):
        finding = by_code(check(patient, code, 30))["unclassified:zorblatin"]
        assert finding.severity == WARN
        assert "clinician" in finding.reason
    chart.medication_classify(medication=medication, by=clinician, drug_class="opioid")
    assert "unclassified:zorblatin" not in by_code(check(patient, "mbb_ls", 30))


def test_everyday_pain_medications_are_recognised_and_hold_nothing(add, patient):
    for name in ("oxycodone", "Lyrica", "Flexeril", "Tylenol", "Percocet", "metformin"):
        assert add(name).classification == Classification.VOCABULARY, name
    findings = check(patient, "scs_trial", 30)
    assert not [f for f in findings if f.code.startswith(("unclassified", "hold"))]


def test_only_a_clinician_classifies(add, front_desk_user):
    medication = add("Zorblatin")
    with pytest.raises(Forbidden):
        chart.medication_classify(
            medication=medication, by=Actor.desk(front_desk_user), drug_class="opioid"
        )


def _holds(findings) -> set[tuple]:
    return {
        (
            f.code.split(":")[0] if "unknown" in f.code else f.code,
            f.severity,
            f.details.get("hold_start"),
        )
        for f in findings
        if f.code.startswith(("hold", "lab_missing", "inr"))
    }


@pytest.mark.parametrize("code", ["scs_trial", "tfesi_ls"])
@pytest.mark.parametrize("row", BRANDS, ids=[r["name"] for r in BRANDS])
def test_a_brand_name_two_days_before_holds_like_its_generic(db, clinician, row, code):
    by_brand, by_generic = PatientFactory(), PatientFactory()
    chart.clinical_entry_add(
        patient=by_brand, chart_list="medication", by=clinician, name=row["name"]
    )
    for generic in row["generic"].split("+"):
        chart.clinical_entry_add(
            patient=by_generic, chart_list="medication", by=clinician, name=generic.strip()
        )
    brand = check(by_brand, code, 2)
    assert _holds(brand) == _holds(check(by_generic, code, 2))
    assert not any(f.code.startswith("unclassified") for f in brand)


@pytest.mark.parametrize(
    "name", ["Eliquis", "Xarelto", "Plavix", "Coumadin", "Brilinta", "Pradaxa", "Effient"]
)
def test_brand_two_days_before_a_transforaminal_esi_blocks_with_a_hold_date(add, patient, name):
    holds = [f for f in check(patient, "tfesi_ls", 2) if f.code.startswith("hold:")]
    assert holds == []
    add(name)
    holds = [f for f in check(patient, "tfesi_ls", 2) if f.code.startswith("hold:")]
    assert [f.severity for f in holds] == [BLOCK]
    assert holds[0].details["hold_start"] < TODAY.isoformat()
    assert holds[0].details["earliest_safe_date"] > day(2).isoformat()


def test_lovenox_two_days_before_warns_its_24_hours(add, patient):
    add("Lovenox")
    finding = by_code(check(patient, "tfesi_ls", 2))[
        "hold:enoxaparin therapeutic dose / dalteparin"
    ]
    assert finding.details["hold_hours"] == 24


def test_celecoxib_gets_no_bleeding_warning(add, patient):
    add("Celebrex", drug_class="nsaid")  # a patient's guess at the class does not win
    for code in ("scs_trial", "tfesi_ls", "mbb_ls"):
        findings = [f for f in check(patient, code, 2) if "Celebrex" in f.reason]
        assert [f.severity for f in findings] == [INFO]
        assert "no hold" in findings[0].reason


def test_a_combination_holds_for_each_component(add, patient):
    add("Aggrenox")
    found = by_code(check(patient, "scs_trial", 10))
    assert found["hold:aspirin (primary prevention)"].details["hold_hours"] == 144
    assert found["hold:cilostazol / dipyridamole"].details["hold_hours"] == 48


def test_uncertain_rows_hold_from_n18_flagged_unconfirmed(add, patient):
    add("Zoloft")
    finding = by_code(check(patient, "scs_trial", 10))[
        "hold:sertraline / fluoxetine / paroxetine / citalopram / escitalopram / fluvoxamine"
    ]
    assert finding.severity == WARN and "shared decision" in finding.reason
    assert "value to confirm with your clinic's policy" in finding.source
    add("Ticlid")
    assert by_code(check(patient, "tfesi_ls", 10))["hold_unknown:ticlid"].severity == WARN


def test_existing_medications_are_resolved_by_the_data_migration(patient):
    old = Medication.objects.create(patient=patient, name="Plavix 75mg", drug_class="other")
    unknown = Medication.objects.create(patient=patient, name="Mystery", drug_class="opioid")
    resolve_existing_medications(apps)
    old.refresh_from_db()
    unknown.refresh_from_db()
    assert (old.generics, old.drug_class, old.classification) == (
        ["clopidogrel"],
        "p2y12_inhibitor",
        "vocabulary",
    )
    assert (unknown.drug_classes, unknown.classification) == (["opioid"], "unrecognised")


# --- Through the API -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Eliquis", "ELIQUIS", "Xarelto 20 mg"])
def test_api_medication_by_brand_then_safety_check_blocks(api_as, clinician_user, patient, name):
    client = api_as(clinician_user)
    posted = client.post(
        f"/api/v1/patients/{patient.id}/medications/", {"name": name}, format="json"
    )
    assert posted.status_code == 201, posted.content
    assert posted.json()["classification"] == "vocabulary"
    assert posted.json()["drug_classes"] == ["doac"]
    answer = client.post(
        "/api/v1/safety-check/",
        {
            "patient": str(patient.id),
            "procedure_type": "tfesi_ls",
            "planned_date": str(TODAY_REAL + timedelta(days=2)),
            "side": "left",
        },
        format="json",
    )
    assert answer.status_code == 200
    holds = [f for f in answer.json()["findings"] if f["code"].startswith("hold:")]
    assert [h["severity"] for h in holds] == [BLOCK]


def test_api_unknown_name_says_so(api_as, clinician_user, patient):
    posted = api_as(clinician_user).post(
        f"/api/v1/patients/{patient.id}/medications/", {"name": "Zorblatin"}, format="json"
    )
    assert posted.status_code == 201
    assert posted.json()["classification"] == "unrecognised"


# --- Indication ------------------------------------------------------------------------------


def test_aspirin_secondary_prevention_is_a_shared_decision(add, patient):
    add("Aspirin 81 mg", indication="secondary_prevention")
    finding = by_code(check(patient, "scs_trial", 2))["hold:aspirin (secondary prevention)"]
    assert finding.severity == WARN
    assert "shared decision with the prescriber" in finding.reason
    assert "hold_start" not in finding.details  # no stop-date message to the patient


def test_aspirin_primary_prevention_holds_six_days(add, patient):
    add("Aspirin", indication="primary_prevention")
    finding = by_code(check(patient, "scs_trial", 2))["hold:aspirin (primary prevention)"]
    assert finding.severity == BLOCK
    assert "not recorded" not in finding.reason


def test_aspirin_without_indication_takes_the_stricter_rule_and_says_so(add, patient):
    add("Ecotrin")
    finding = by_code(check(patient, "scs_trial", 2))["hold:aspirin (primary prevention)"]
    assert finding.severity == BLOCK
    assert "indication is not recorded" in finding.reason
    assert "aspirin (secondary prevention)" in finding.reason


@pytest.mark.parametrize(
    ("indication", "rule", "hours", "says_unknown"),
    [
        ("prophylactic_dose", "enoxaparin prophylactic dose", 12, False),
        ("therapeutic_dose", "enoxaparin therapeutic dose / dalteparin", 24, False),
        ("", "enoxaparin therapeutic dose / dalteparin", 24, True),
    ],
)
def test_enoxaparin_dose_decides_the_hold(add, patient, indication, rule, hours, says_unknown):
    add("Lovenox 40 mg", indication=indication)
    finding = by_code(check(patient, "tfesi_ls", 5))[f"hold:{rule}"]
    assert finding.details["hold_hours"] == hours
    assert ("indication is not recorded" in finding.reason) is says_unknown


# --- Labs ------------------------------------------------------------------------------------


def test_warfarin_stopped_in_time_keeps_its_inr_requirement(add, patient, lab):
    add("Coumadin", start_date=day(-400), end_date=day(4))  # planned day 10: 6 days off
    found = by_code(check(patient, "tfesi_ls", 10))
    hold = found["hold:warfarin"]
    assert hold.severity == WARN
    assert "normal INR" in hold.reason
    missing = found["lab_missing:inr"]
    assert missing.severity == WARN
    assert missing.details["needed_by"] == day(10).isoformat()
    assert day(9).isoformat() in missing.reason  # the window start (1 day, editable)

    lab("inr", "2.4", 9)
    found = by_code(check(patient, "tfesi_ls", 10))
    assert found["inr_abnormal"].severity == BLOCK

    lab("inr", "1.0", 10)
    found = by_code(check(patient, "tfesi_ls", 10))
    assert found["hold:warfarin"].severity == INFO
    assert "INR 1 on" in found["hold:warfarin"].reason
    assert "inr_abnormal" not in found and "lab_missing:inr" not in found


def test_inr_threshold_and_window_are_editable(add, patient, lab):
    add("Warfarin", end_date=day(2))
    lab("inr", "1.3", 6)
    assert "lab_missing:inr" in by_code(check(patient, "tfesi_ls", 10))
    set_threshold("inr_max_age_days", 5)
    assert by_code(check(patient, "tfesi_ls", 10))["inr_abnormal"].severity == BLOCK
    set_threshold("inr_normal_max", "1.4")
    assert by_code(check(patient, "tfesi_ls", 10))["hold:warfarin"].severity == INFO


def test_low_risk_warfarin_needs_no_inr(add, patient):
    add("Warfarin")
    assert "lab_missing:inr" not in by_code(check(patient, "mbb_ls", 10))


@pytest.mark.parametrize(
    ("crcl", "hours", "missing"),
    [
        (None, 144, True),
        ("30", 144, False),
        ("49.9", 144, False),
        ("50", 120, False),
        ("90", 120, False),
    ],
)
def test_dabigatran_hold_lengthens_with_renal_impairment(add, patient, lab, crcl, hours, missing):
    add("Pradaxa")
    if crcl is not None:
        lab("crcl", crcl, -10)
    found = by_code(check(patient, "scs_trial", 10))
    assert found["hold:dabigatran"].details["hold_hours"] == hours
    assert ("lab_missing:crcl" in found) is missing
    # intermediate risk: 4-5 days whatever the kidneys (anticoagulants.csv)
    assert by_code(check(patient, "tfesi_ls", 10))["hold:dabigatran"].details["hold_hours"] == 120


def test_egfr_stands_in_for_crcl(add, patient, lab):
    add("dabigatran")
    lab("egfr", "35", -3)
    assert by_code(check(patient, "scs_trial", 10))["hold:dabigatran"].details["hold_hours"] == 144


@pytest.mark.parametrize(
    ("count", "taken", "expected"),
    [
        (None, 0, "lab_missing:platelets"),
        ("150", -5, None),
        ("60", -5, "platelets_low"),
        ("150", -40, "lab_missing:platelets"),
    ],
)
def test_platelet_threshold_before_high_risk(patient, lab, count, taken, expected):
    if count is not None:
        lab("platelets", count, taken)
    found = by_code(check(patient, "scs_trial", 10))
    codes = {c for c in found if c.startswith(("lab_missing:platelets", "platelets_low"))}
    assert codes == ({expected} if expected else set())
    if expected == "platelets_low":
        assert found[expected].severity == BLOCK
    assert not any("platelet" in c for c in by_code(check(patient, "tfesi_ls", 10)))


def test_platelet_threshold_is_editable(patient, lab):
    lab("platelets", "60", -5)
    set_threshold("platelet_min_high_risk", 50)
    assert "platelets_low" not in by_code(check(patient, "scs_trial", 10))


def test_recently_stopped_window_is_editable(add, patient):
    add("Eliquis", start_date=day(-100), end_date=day(-10))  # 20 days before day 10
    assert "hold:apixaban" in by_code(check(patient, "scs_trial", 10))
    set_threshold("medication_recent_days", 15)
    assert "hold:apixaban" not in by_code(check(patient, "scs_trial", 10))


# --- Actionable wording ----------------------------------------------------------------------


def test_hold_names_last_dose_first_day_without_and_restart(add, patient):
    add("Eliquis")
    finding = by_code(check(patient, "tfesi_ls", 10))["hold:apixaban"]  # 3 days, restart 24 h
    assert finding.severity == WARN
    assert finding.details["last_dose"] == day(6).isoformat()
    assert finding.details["first_day_without"] == day(7).isoformat()
    assert finding.details["hold_start"] == day(7).isoformat()
    assert finding.details["restart_on"] == day(11).isoformat()
    assert f"last dose on {day(6).isoformat()}" in finding.reason
    assert f"first day without it {day(7).isoformat()}" in finding.reason
    assert "Restart: 24 hours after the procedure" in finding.reason
    text = finding.details["patient_text"]
    assert f"take your last dose on {day(6):%A %-d %B %Y}" in text
    assert f"Do not take it from {day(7):%A %-d %B %Y}" in text
    assert f"Start it again on {day(11):%A %-d %B %Y}" in text


def test_a_blocked_hold_gives_the_earliest_date_and_restart(add, patient):
    add("Eliquis")
    finding = by_code(check(patient, "tfesi_ls", 2))["hold:apixaban"]
    assert finding.severity == BLOCK
    assert finding.details["earliest_safe_date"] == day(3).isoformat()
    assert "Restart:" in finding.reason


def test_hours_holds_say_how_long_before_and_restart(add, patient):
    add("Lovenox", indication="prophylactic_dose")
    finding = by_code(check(patient, "tfesi_ls", 3))["hold:enoxaparin prophylactic dose"]
    assert "at least 12 hours before" in finding.reason
    assert "12-24 hours" in finding.reason
    assert "last dose at least 12 hours" in finding.details["patient_text"]


# --- Labs through the API ----------------------------------------------------------------------


def test_labs_api_records_lists_filters_and_audits(api_as, clinician_user, patient):
    client = api_as(clinician_user)
    url = f"/api/v1/patients/{patient.id}/labs/"
    before = AuditEvent.objects.filter(patients__contains=[patient.pk]).count()
    posted = client.post(
        url, {"kind": "inr", "value": "1.1", "taken_on": str(TODAY_REAL)}, format="json"
    )
    assert posted.status_code == 201, posted.content
    assert posted.json()["unit"] == "ratio"
    client.post(
        url,
        {"kind": "platelets", "value": "180", "unit": "10^3/uL", "taken_on": str(TODAY_REAL)},
        format="json",
    )
    listed = client.get(url).json()["results"]
    assert {row["kind"] for row in listed} == {"inr", "platelets"}
    assert [r["kind"] for r in client.get(url + "?kind=inr").json()["results"]] == ["inr"]
    refused = client.get(url + "?kind=sodium")
    assert refused.status_code == 400 and "kind" in str(refused.json())
    assert client.get(url + "?taken_after=2999-01-01").json()["results"] == []
    assert AuditEvent.objects.filter(patients__contains=[patient.pk]).count() >= before + 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "inr", "value": "45", "taken_on": "2026-01-01"}, "value"),
        ({"kind": "crcl", "value": "60", "unit": "mg/dL", "taken_on": "2026-01-01"}, "unit"),
        ({"kind": "inr", "value": "1.0", "taken_on": "2099-01-01"}, "taken_on"),
        ({"kind": "sodium", "value": "140", "taken_on": "2026-01-01"}, "kind"),
    ],
)
def test_labs_api_refuses_bad_values(api_as, clinician_user, patient, body, field):
    answer = api_as(clinician_user).post(
        f"/api/v1/patients/{patient.id}/labs/", body, format="json"
    )
    assert answer.status_code == 400
    assert field in str(answer.json())
    assert not patient.labs.exists()


def test_front_desk_cannot_record_labs(api_as, front_desk_user, patient):
    answer = api_as(front_desk_user).post(
        f"/api/v1/patients/{patient.id}/labs/",
        {"kind": "inr", "value": "1", "taken_on": "2026-01-01"},
        format="json",
    )
    assert answer.status_code in (403, 404)
    assert not patient.labs.exists()


@pytest.mark.parametrize("labs", [1, 15])
def test_labs_list_query_count_does_not_grow(
    api_as, clinician_user, patient, clinician, django_assert_max_num_queries, labs
):
    for n in range(labs):
        chart.lab_record(
            patient=patient,
            by=clinician,
            kind="inr",
            value="1.0",
            taken_on=date(2026, 1, 1) + timedelta(days=n),
        )
    client = api_as(clinician_user)
    with django_assert_max_num_queries(8) as captured:
        assert client.get(f"/api/v1/patients/{patient.id}/labs/").status_code == 200
    assert len(captured) <= 8
