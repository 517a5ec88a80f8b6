"""The registry's figures against hand-computed ones on the small clinic of outcome_data."""

from urllib.parse import parse_qs, urlsplit

import pytest

from reports.outcomes import outcomes_report
from reports.registry import REPORTS, Audience, Filters

from .outcome_data import END, FILTERS, START, seed_clinic

pytestmark = pytest.mark.django_db


def rows_of(table_key: str, filters: Filters = FILTERS) -> list[dict]:
    result = outcomes_report(filters)
    return next(t for t in result.tables if t.key == table_key).rows


def row(rows: list[dict], dimension: str, group: str, point: str | None = None, **more) -> dict:
    found = [
        r
        for r in rows
        if r["dimension"] == dimension
        and r["group"] == group
        and (point is None or r["point"] == point)
        and all(r[k] == v for k, v in more.items())
    ]
    assert len(found) == 1, (dimension, group, point, found)
    return found[0]


def test_registered_for_clinicians():
    assert REPORTS["outcomes"].audience == Audience.CLINICIANS


def test_responders_by_procedure_type():
    clinic = seed_clinic()
    rows = rows_of("responders")
    lumbar = clinic.lumbar_1.procedure_type.name
    two_weeks = row(rows, "Procedure type", lumbar, "2 weeks")
    # 50% and 30% (day 10 is nearer day 14 than day 20's 40%)
    assert (two_weeks["due"], two_weeks["followed_up"]) == (2, 2)
    assert (two_weeks["responders_30"], two_weeks["responders_30_percent"]) == (2, 100.0)
    assert (two_weeks["responders_50"], two_weeks["responders_50_percent"]) == (1, 50.0)
    assert two_weeks["median_relief"] == 40.0
    assert (two_weeks["pgic_2"], two_weeks["pgic_3"], two_weeks["pgic_1"]) == (1, 1, 0)
    assert two_weeks["pgic_improved_percent"] == 50.0
    three_months = row(rows, "Procedure type", lumbar, "3 months")  # 25% and 0%
    assert three_months["responders_30"] == 0
    assert three_months["median_relief"] == 12.5
    six_months = row(rows, "Procedure type", lumbar, "6 months")  # 75%; the other has none
    assert (six_months["due"], six_months["followed_up"]) == (2, 1)
    assert (six_months["responders_50"], six_months["responders_50_percent"]) == (1, 100.0)
    assert six_months["pgic_1"] == 1


def test_undefined_relief_is_followed_up_but_not_a_denominator():
    clinic = seed_clinic()
    cervical = row(
        rows_of("responders"), "Procedure type", clinic.cervical_1.procedure_type.name, "2 weeks"
    )
    assert (cervical["followed_up"], cervical["responders_30"]) == (2, 0)
    assert cervical["responders_30_percent"] == 0.0  # 0 of the 1 with a baseline above 0
    assert cervical["median_relief"] == 0.0
    assert cervical["pgic_4"] == 2
    assert cervical["pgic_improved_percent"] == 0.0


def test_groups_by_provider_payer_and_region():
    seed_clinic()
    rows = rows_of("responders")
    first = row(rows, "Provider", "Dr. Ada First, MD", "2 weeks")  # 50%, 0%, undefined
    assert (first["followed_up"], first["responders_30"], first["responders_30_percent"]) == (
        3,
        1,
        50.0,
    )
    assert first["median_relief"] == 25.0
    assert row(rows, "Provider", "Dr. Bo Second, DO", "2 weeks")["median_relief"] == 30.0
    assert row(rows, "Payer", "Acme Health", "2 weeks")["followed_up"] == 3
    assert row(rows, "Payer", "No payer on file", "2 weeks")["followed_up"] == 1
    assert row(rows, "Region", "Lumbar Sacral", "3 months")["followed_up"] == 2
    assert row(rows, "Region", "Cervical Thoracic", "3 months")["followed_up"] == 0


def test_complications_and_survey_response():
    clinic = seed_clinic()
    rows = rows_of("procedures")
    lumbar = row(rows, "Procedure type", clinic.lumbar_1.procedure_type.name)
    assert (lumbar["procedures"], lumbar["complications"], lumbar["complication_percent"]) == (
        2,
        1,
        50.0,
    )
    assert (lumbar["surveys_sent"], lumbar["surveys_answered"]) == (2, 1)
    assert lumbar["survey_response_percent"] == 50.0
    cervical = row(rows, "Procedure type", clinic.cervical_1.procedure_type.name)
    assert (cervical["procedures"], cervical["complications"], cervical["surveys_sent"]) == (
        2,
        0,
        0,
    )
    assert cervical["survey_response_percent"] is None


def test_disability_change_against_the_mcid():
    clinic = seed_clinic()
    rows = rows_of("disability")
    odi = row(
        rows, "Procedure type", clinic.lumbar_1.procedure_type.name, "3 months", instrument="ODI"
    )
    assert (odi["pairs"], odi["mean_baseline"], odi["mean_improvement"]) == (2, 30.0, 8.5)
    assert (odi["reached_mcid"], odi["reached_mcid_percent"]) == (1, 50.0)
    ndi = row(
        rows, "Procedure type", clinic.cervical_1.procedure_type.name, "2 weeks", instrument="NDI"
    )
    assert (ndi["pairs"], ndi["reached_mcid"]) == (1, 1)
    # The cervical ODI's only earlier score is 100 days old: no baseline, no pair.
    assert not [
        r
        for r in rows
        if r["instrument"] == "ODI" and r["group"] == clinic.cervical_1.procedure_type.name
    ]


def test_filters_narrow_the_procedures():
    clinic = seed_clinic()
    by_provider = Filters(start=START, end=END, provider_id=clinic.second.pk)
    rows = rows_of("procedures", by_provider)
    assert {r["group"] for r in rows if r["dimension"] == "Provider"} == {"Dr. Bo Second, DO"}
    first_day = clinic.lumbar_1.performed_at.date()
    narrow = Filters(start=first_day, end=first_day)
    assert row(rows_of("procedures", narrow), "Region", "Lumbar Sacral")["procedures"] == 1


def test_each_row_links_to_its_patients_without_phi():
    clinic = seed_clinic()
    link = row(rows_of("responders"), "Payer", "Acme Health", "3 months")["patients_url"]
    parts = urlsplit(link)
    assert parts.path == "/reports/outcomes/patients/"
    assert parse_qs(parts.query) == {
        "start": ["2025-01-01"],
        "end": ["2025-03-31"],
        "dimension": ["payer"],
        "group": [str(clinic.payer.pk)],
        "point": ["3m"],
    }
    assert clinic.lumbar_1.patient.mrn not in link


def test_charts_draw_the_table(django_assert_num_queries):
    clinic = seed_clinic()
    outcomes_report(FILTERS)  # the policy row exists from here on
    with django_assert_num_queries(4):  # the survey policy, the summaries' state, two sums
        result = outcomes_report(FILTERS)
    chart = next(c for c in result.charts if c.key == "responders_50")
    lumbar = chart.labels.index(clinic.lumbar_1.procedure_type.name)
    assert [d.label for d in chart.datasets] == ["2 weeks", "3 months", "6 months"]
    assert [d.values[lumbar] for d in chart.datasets] == [50.0, 0.0, 100.0]
    pgic = next(c for c in result.charts if c.key == "pgic")
    assert pgic.datasets[0].values[3] == 2.0  # "no change" at 2 weeks: the two cervical
