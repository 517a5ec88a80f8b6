"""Sources in words: the reference data's keys become the documents they stand for, and an
unchecked value says to confirm it with the clinic's policy."""

import pytest

from procedures.sources import TO_CONFIRM, readable_source

JARGON = ("N18", "LCD-", ".csv", ".md", "calculator", "unconfirmed", "KOHAN")
# Cited by title, journal, pages and DOI; its table numbers were not confirmed from a
# readable copy of the full text, so none is named (docs/decisions/0040).
GUIDELINE = (
    "ASRA Pain Medicine guidelines on interventional spine and pain procedures in patients on "
    "antiplatelet and anticoagulant medications, second edition (Narouze et al., Reg Anesth "
    "Pain Med 2018;43:225-262, doi:10.1097/AAP.0000000000000700)"
)


@pytest.mark.parametrize(
    ("source", "reads"),
    [
        (
            "N18 via secondary calculator (unconfirmed value)",
            f"{GUIDELINE}: its recommendation for this drug at the procedure's bleeding-risk "
            f"class (low, intermediate or high), as tabulated by a secondary summary ({TO_CONFIRM})",
        ),
        (
            "N18 (confirmed)",
            f"{GUIDELINE}: its recommendation for this drug at the procedure's bleeding-risk "
            "class (low, intermediate or high)",
        ),
        # The guideline as a whole (labs, a bleeding disorder) is not a drug's recommendation.
        ("ASRA 2018 (N18)", GUIDELINE),
        (
            "Safety thresholds (clinic defaults to confirm); ASRA 2018 (N18)",
            f"Safety thresholds (clinic defaults to confirm); {GUIDELINE}",
        ),
        (
            "LCD-ESI (L39240; L33906 same)",
            "CMS Local Coverage Determination L39240, Epidural Steroid Injections for Pain "
            "Management",
        ),
        (
            "LCD-FACET (L38801): at most 2 levels per session, RFA included",
            "CMS Local Coverage Determination L38801, Facet Joint Interventions for Pain "
            "Management: at most 2 levels per session, RFA included",
        ),
        (
            "procedures.csv: genicular block positive at >= 50% (unconfirmed value)",
            f"The clinic's procedure catalog: genicular block positive at ≥ 50% ({TO_CONFIRM})",
        ),
        (
            "Interv Pain Med 2022 (unconfirmed; practice-configurable)",
            f"Interv Pain Med 2022 ({TO_CONFIRM})",
        ),
        (
            "intake.md; KOHAN 2017",
            "The clinic's pre-procedure requirements; Kohan et al., J Pain Res 2017;10:625 "
            "(survey of pain physicians)",
        ),
        (
            "Medicare LCD-ESI (L39240) (payer unknown: Medicare LCD rules applied)",
            "CMS Local Coverage Determination L39240, Epidural Steroid Injections for Pain "
            "Management (payer unknown: Medicare LCD rules applied)",
        ),
        ("Payer", "Payer"),
    ],
)
def test_sources_read_as_references(source, reads):
    assert readable_source(source) == reads
    assert not any(word in readable_source(source) for word in JARGON)


def test_wording_twice_changes_nothing():
    once = readable_source("N18 via secondary calculator (unconfirmed value)")
    assert readable_source(once) == once


@pytest.mark.django_db
def test_a_session_limit_says_from_when_it_is_covered_again():
    from datetime import date, timedelta

    from patients.tests.factories import PatientFactory
    from procedures.models import ProcedureRecord
    from procedures.safety import local_day
    from procedures.tests.factories import record
    from procedures.tests.test_frequency_rules import check

    patient = PatientFactory()
    for days_ago in (300, 220, 140, 60):
        record(patient, "tfesi_ls", days_ago)
    (finding,) = [f for f in check(patient, "tfesi_ls", 30) if f.code.startswith("session_limit")]
    oldest = min(local_day(r) for r in ProcedureRecord.objects.select_related("location"))
    covered_from = date.fromisoformat(finding.details["covered_from"])
    assert covered_from == oldest + timedelta(days=366)  # the oldest has left the 365 days
    assert f"Covered again from {covered_from:%Y-%m-%d}" in finding.reason
    assert "ask the payer for an exception" in finding.reason
