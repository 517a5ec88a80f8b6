"""Payers and their rule sets (issue 14, point 11): the Medicare LCD rules by default, a
payer's own rows (frequency_rules.csv's eviCore and BCBS examples) in their place, and each
finding naming the rules it applied. Table-driven: the same histories under each payer give
the findings each source row says."""

import csv
import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.users.actor import Actor
from patients import services
from patients.models import Payer
from patients.payers import normalise, payer_match
from patients.tests.factories import PatientFactory
from procedures.catalog import DATA
from procedures.models import PayerRule
from procedures.payer_rules import UNKNOWN, private_payer_rows
from procedures.safety import BLOCK
from procedures.sources import TO_CONFIRM
from procedures.tests.factories import record
from procedures.tests.test_frequency_rules import check

pytestmark = pytest.mark.django_db

EVICORE = "eviCore-managed commercial plan"
BCBS = "Blue Cross Blue Shield of Massachusetts"
PAYER_CODES = {"session_limit:esi_max_sessions", "esi_short_window", "esi_retry_interval"}


def csv_rows() -> dict[str, dict[str, str]]:
    with (DATA / "frequency_rules.csv").open(newline="") as handle:
        return {row["rule"]: row for row in csv.DictReader(handle)}


def payer(name: str | None):
    return None if name is None else Payer.objects.get(name=name)


# --- The rule rows come from the CSV ----------------------------------------------------------


def test_the_private_payer_rows_hold_the_csv_values():
    rows = csv_rows()
    evicore = rows["private_payer_example_a"]["value"]  # >=14 apart; <=3 per 6 mo; <=4 per 12
    bcbs = rows["private_payer_example_b"]["value"]  # >=30 days apart; <=6 per 12 months
    expected = {
        (EVICORE, "esi_retry_min_days"): re.search(r">=(\d+) days apart", evicore).group(1),
        (EVICORE, "esi_short_window_max_sessions"): re.search(r"<=(\d+) per 6", evicore).group(1),
        (EVICORE, "esi_short_window_days"): "182",
        (EVICORE, "esi_max_sessions"): re.search(r"<=(\d+) per 12", evicore).group(1),
        (BCBS, "esi_retry_min_days"): re.search(r">=(\d+) days apart", bcbs).group(1),
        (BCBS, "esi_max_sessions"): re.search(r"<=(\d+) per 12", bcbs).group(1),
    }
    stored = {(r.payer.name, r.key): r for r in PayerRule.objects.select_related("payer")}
    assert set(stored) == set(expected)
    for key, value in expected.items():
        assert stored[key].value == Decimal(value), key
        assert stored[key].certain is False  # certain=no in the CSV
    assert {row["payer"] for row in private_payer_rows()} == {EVICORE, BCBS}


# --- The same history under each payer -------------------------------------------------------

# Days before the planned ESI (planned 30 days after TODAY) of earlier ESI sessions, one
# region. The expected blocks follow the source rows:
#   Medicare LCD (L39240): <= 4 sessions per 12 months; a retry >= 14 days after the last.
#   eviCore (private_payer_example_a): >= 14 days apart; <= 3 per 6 months; <= 4 per 12.
#   BCBS MA (private_payer_example_b): >= 30 days apart; <= 6 per 12 months.
HISTORIES = {
    "one 20 days ago": [20],
    "three in 6 months": [150, 100, 50],
    "four in 12 months, two in 6": [330, 250, 170, 90],
    "six in 12 months, three in 6": [350, 290, 230, 170, 110, 50],
}
CASES = [
    # (history, payer, blocks)
    ("one 20 days ago", None, set()),
    ("one 20 days ago", "Medicare", set()),
    ("one 20 days ago", EVICORE, set()),
    ("one 20 days ago", BCBS, {"esi_retry_interval"}),
    ("three in 6 months", None, set()),
    ("three in 6 months", "Medicare", set()),
    ("three in 6 months", EVICORE, {"esi_short_window"}),
    ("three in 6 months", BCBS, set()),
    ("four in 12 months, two in 6", None, {"session_limit:esi_max_sessions"}),
    ("four in 12 months, two in 6", "Medicare", {"session_limit:esi_max_sessions"}),
    ("four in 12 months, two in 6", EVICORE, {"session_limit:esi_max_sessions"}),
    ("four in 12 months, two in 6", BCBS, set()),
    ("six in 12 months, three in 6", "Medicare", {"session_limit:esi_max_sessions"}),
    (
        "six in 12 months, three in 6",
        EVICORE,
        {"session_limit:esi_max_sessions", "esi_short_window"},
    ),
    ("six in 12 months, three in 6", BCBS, {"session_limit:esi_max_sessions"}),
]  # fmt: skip


@pytest.mark.parametrize(("history", "payer_name", "blocks"), CASES)
def test_the_same_history_under_each_payer(history, payer_name, blocks):
    patient = PatientFactory(payer=payer(payer_name))
    for days_before in HISTORIES[history]:
        record(patient, "tfesi_ls", days_before - 30)  # days_ago from TODAY; planned +30
    findings = check(patient, "tfesi_ls", 30)
    assert {f.code for f in findings if f.severity == BLOCK} & PAYER_CODES == blocks


def test_both_sides_the_same_day_are_one_session_under_a_payer_too():
    patient = PatientFactory(payer=payer(EVICORE))
    for days_before in (150, 100):
        record(patient, "tfesi_ls", days_before - 30, side="left")
    record(patient, "tfesi_ls", 20, side="left")
    record(patient, "tfesi_ls", 20, side="right")  # 50 days before: the same session
    blocks = {f.code for f in check(patient, "tfesi_ls", 30) if f.severity == BLOCK}
    assert "esi_short_window" in blocks
    finding = next(f for f in check(patient, "tfesi_ls", 30) if f.code == "esi_short_window")
    assert finding.details == {"count": 3, "limit": 3, "window_days": 182}


# --- Each finding names the rules it applied -------------------------------------------------


ESI_LCD = "CMS Local Coverage Determination L39240, Epidural Steroid Injections for Pain Management"


def _finding(patient, code, ago):
    for days_ago in ago:
        record(patient, "tfesi_ls", days_ago)
    return next(f for f in check(patient, "tfesi_ls", 30) if f.code == code)


def test_without_a_payer_the_finding_says_medicare_lcd_rules_were_applied():
    finding = _finding(PatientFactory(), "session_limit:esi_max_sessions", [300, 220, 140, 60])
    assert finding.source == f"{ESI_LCD} ({UNKNOWN})"


def test_a_payer_without_its_own_row_gets_the_medicare_lcd_rules_named_so():
    aetna = PatientFactory(payer=payer("Aetna"))
    finding = _finding(aetna, "session_limit:esi_max_sessions", [300, 220, 140, 60])
    assert finding.source == f"{ESI_LCD} (Medicare LCD rules for Aetna)"


def test_a_private_payers_finding_names_its_policy_and_that_it_is_unconfirmed():
    bcbs = PatientFactory(payer=payer(BCBS))
    finding = _finding(bcbs, "esi_retry_interval", [-10])  # 20 days before the planned day
    assert finding.source == (
        f"BCBS MA policy (private_payer_example_b), rule set of {BCBS} ({TO_CONFIRM})"
    )
    assert "LCD" not in finding.source


def test_findings_that_no_payer_governs_keep_their_source():
    patient = PatientFactory(payer=payer(BCBS))
    record(patient, "tfesi_ls", 0)
    findings = check(patient, "tfesi_ls", 5, levels=["L3-L4", "L4-L5", "L5-S1"])
    retry = next(f for f in findings if f.code == "esi_retry_interval")
    too_many = next(f for f in findings if f.code == "too_many_levels")
    assert "BCBS" in retry.source
    assert "BCBS" not in too_many.source and "L39240" in too_many.source


def test_a_manager_edit_of_a_payer_row_changes_the_check():
    patient = PatientFactory(payer=payer(BCBS))
    record(patient, "tfesi_ls", -10)  # 20 days before the planned day
    assert "esi_retry_interval" in {f.code for f in check(patient, "tfesi_ls", 30)}
    PayerRule.objects.filter(payer__name=BCBS, key="esi_retry_min_days").update(value=14)
    assert "esi_retry_interval" not in {f.code for f in check(patient, "tfesi_ls", 30)}


def test_the_check_costs_two_queries_more_with_a_payer():
    without, with_payer = PatientFactory(), PatientFactory(payer=payer(BCBS))
    counts = []
    for patient in (without, with_payer):
        patient = type(patient).objects.get(pk=patient.pk)  # nothing cached
        with CaptureQueriesContext(connection) as captured:
            check(patient, "tfesi_ls", 30)
        counts.append(len(captured))
    assert counts[1] == counts[0] + 2


# --- Matching the free text, the data migration ----------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Medicare", "Medicare"),
        ("  MEDICARE part B ", "Medicare"),
        ("BCBS-MA", BCBS),
        ("Blue Cross Blue Shield of Massachusetts.", BCBS),
        ("aetna", "Aetna"),
        ("Blue Cross", None),  # many Blue plans: a person picks
        ("Alpha Insurance", None),
        ("", None),
    ],
)
def test_free_text_matches_a_payer_by_name_or_alias(typed, name):
    found = payer_match(typed)
    assert (found.name if found else None) == name


def test_normalise_ignores_case_spacing_and_punctuation():
    assert normalise("  Blue-Cross  Blue Shield of MA. ") == "blue cross blue shield of ma"


def test_the_data_migration_points_matching_free_text_to_its_payer():
    migration = importlib.import_module("patients.migrations.0007_payers")
    medicare = PatientFactory(insurance_payer="medicare")
    unknown = PatientFactory(insurance_payer="Alpha Insurance")
    blank = PatientFactory(insurance_payer="")
    chosen = PatientFactory(insurance_payer="Aetna", payer=payer("Cigna"))
    migration.seed_payers_and_match(django_apps, None)
    for patient in (medicare, unknown, blank, chosen):
        patient.refresh_from_db()
    assert medicare.payer.name == "Medicare"
    assert unknown.payer is None and blank.payer is None
    assert chosen.payer.name == "Cigna"  # a payer someone chose is kept
    assert Payer.objects.filter(name="Medicare").count() == 1  # seeds once


def test_a_typed_insurance_company_finds_its_payer_when_none_is_chosen(front_desk_user):
    created = services.patient_create(
        by=Actor.desk(front_desk_user),
        legal_first_name="Ana",
        legal_last_name="Silva",
        date_of_birth="1950-02-03",
        insurance_payer="Original Medicare",
    )
    assert created.payer.name == "Medicare"
    services.patient_update(patient=created, insurance_payer="Alpha Insurance")
    assert created.payer.name == "Medicare"  # a payer once set is changed only on purpose


# --- Staff pick the payer: the patient form, the chart, the API, the admin --------------------


def test_staff_pick_the_payer_on_the_patient_form_and_the_chart_names_it(client, front_desk_user):
    patient = PatientFactory()
    client.sign_in(front_desk_user)
    page = client.get(f"/patients/{patient.pk}/edit/").content.decode()
    assert '<select name="payer"' in page and "Unknown (Medicare LCD rules)" in page
    assert BCBS in page
    chart = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "Unknown: Medicare LCD rules applied" in chart
    data = {f: getattr(patient, f) for f in ("legal_first_name", "legal_last_name", "sex")}
    data |= {
        "date_of_birth": patient.date_of_birth.isoformat(),
        "preferred_channel": patient.preferred_channel,
        "status": patient.status,
        "payer": str(payer(BCBS).pk),
        "initial-payer": "",
    }
    response = client.post(f"/patients/{patient.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    patient.refresh_from_db()
    assert patient.payer.name == BCBS
    assert f'{BCBS} <span class="muted">(Commercial)</span>' in (
        client.get(f"/patients/{patient.pk}/").content.decode()
    )


def test_the_api_reads_and_sets_the_payer(api_as, front_desk_user, clinician_user):
    patient = PatientFactory()
    client = api_as(front_desk_user)
    url = f"/api/v1/patients/{patient.pk}/"
    assert client.get(url).json()["payer"] is None
    medicare = payer("Medicare")
    answer = client.patch(url, {"payer": str(medicare.pk)}, format="json")
    assert answer.status_code == 200 and answer.json()["payer"] == str(medicare.pk)
    bad = client.patch(url, {"payer": "00000000-0000-0000-0000-000000000000"}, format="json")
    assert bad.status_code == 400 and "payer" in bad.json()["fields"]
    patient.refresh_from_db()
    assert patient.payer == medicare


def test_managers_edit_payers_and_their_rules_in_the_admin(client, manager_user):
    client.sign_in(manager_user)
    rule = PayerRule.objects.get(payer__name=BCBS, key="esi_retry_min_days")
    assert client.get("/admin/patients/payer/").status_code == 200
    listed = client.get("/admin/procedures/payerrule/").content.decode()
    assert "BCBS MA policy" in listed
    page = client.get(f"/admin/procedures/payerrule/{rule.pk}/change/")
    assert page.status_code == 200
    response = client.post(
        f"/admin/procedures/payerrule/{rule.pk}/change/",
        {
            "payer": str(rule.payer_id),
            "key": rule.key,
            "value": "21",
            "source": rule.source,
            "certain": "",
            "note": rule.note,
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.value == Decimal("21")
    assert rule.events.count() >= 2  # the edit is recorded (django-pghistory)


@pytest.mark.parametrize(("payer_name", "limit"), [(None, 4), ("Aetna", 4), (BCBS, 6)])
def test_the_physicians_ledger_counts_against_the_payers_limit(payer_name, limit):
    from history.selectors import ledgers, load
    from procedures.tests.factories import TODAY

    patient = PatientFactory(payer=payer(payer_name))
    for days_ago in (300, 220, 140, 60):
        record(patient, "tfesi_ls", days_ago)
    region = next(
        r for r in ledgers(load(patient, TODAY))["regions"] if r["region"] == "lumbar_sacral"
    )
    esi = next(row for row in region["rows"] if row["family"] == "esi")
    assert (esi["count"], esi["limit"], esi["at_limit"]) == (4, limit, limit == 4)


def test_the_order_page_names_the_rules_applied(client, clinician_user):
    from procedures.tests.factories import ProcedureOrderFactory

    client.sign_in(clinician_user)
    unknown = ProcedureOrderFactory(patient=PatientFactory())
    page = client.get(f"/procedures/orders/{unknown.pk}/").content.decode()
    assert "Frequency rules: payer unknown: Medicare LCD rules applied." in page
    bcbs = ProcedureOrderFactory(patient=PatientFactory(payer=payer(BCBS)))
    page = client.get(f"/procedures/orders/{bcbs.pk}/").content.decode()
    assert f"Frequency rules: {BCBS}'s rule set" in page
