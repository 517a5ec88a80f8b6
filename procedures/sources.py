"""Sources as a physician reads them: the reference data's keys ("N18", "LCD-ESI",
"procedures.csv") become the guideline or coverage document they stand for, and a value
that could not be checked against the primary text says what to do about it.

The references are those of /work/shared/domain/README.md ("Sources"). The ASRA guideline
is cited with its DOI and by what in it a finding rests on (the recommendation for the drug at
the procedure's bleeding-risk class), not by table or section number: no readable copy of its
full text was at hand to confirm those numbers (docs/decisions/0040).
"""

import re

TO_CONFIRM = "value to confirm with your clinic's policy"
ASRA_2018 = (
    "ASRA Pain Medicine guidelines on interventional spine and pain procedures in patients "
    "on antiplatelet and anticoagulant medications, second edition (Narouze et al., Reg "
    "Anesth Pain Med 2018;43:225-262, doi:10.1097/AAP.0000000000000700)"
)
# A hold rests on two parts of the guideline: its bleeding-risk classes of procedures and its
# recommendation for each drug (stop before, restart after) at each class.
ASRA_HOLDS = (
    f"{ASRA_2018}: its recommendation for this drug at the procedure's bleeding-risk class "
    "(low, intermediate or high)"
)
# (pattern, readable reference), tried in order; a pattern eats the key's own parenthesis
# ("LCD-ESI (L39240; L33906 same)") so the number is not said twice. "ASRA 2018 (N18)" is
# the guideline as a whole; the hold table's "N18" is a drug's recommendation.
REFERENCES: list[tuple[str, str]] = [
    (r"ASRA 2018 \(N18\)", ASRA_2018),
    (r"N18 via secondary calculator", f"{ASRA_HOLDS}, as tabulated by a secondary summary"),
    (r"\bN18\b", ASRA_HOLDS),
    (
        r"LCD-ESI(?: \([^)]*\))?",
        "CMS Local Coverage Determination L39240, Epidural Steroid Injections for Pain Management",
    ),
    (
        r"LCD-FACET(?: \([^)]*\))?",
        "CMS Local Coverage Determination L38801, Facet Joint Interventions for Pain Management",
    ),
    (
        r"LCD-SI(?: \([^)]*\))?",
        "CMS Local Coverage Determination L39462, Sacroiliac Joint Injections and Procedures",
    ),
    (
        r"LCD-TPI(?: \([^)]*\))?",
        "CMS Local Coverage Determination L34211, Trigger Point Injections",
    ),
    (
        r"LCD-PVA(?: \([^)]*\))?",
        "CMS Local Coverage Determination L34228, Percutaneous Vertebral Augmentation",
    ),
    (r"AAPM-CPT", "American Academy of Pain Medicine, CPT 2020 nerve injection codes"),
    (r"KOHAN(?: 2017)?", "Kohan et al., J Pain Res 2017;10:625 (survey of pain physicians)"),
    (r"Rathmell 2015", "Rathmell et al., Anesthesiology 2015;122:974 (safeguards for ESIs)"),
    (r"procedures\.csv", "the clinic's procedure catalog"),
    (r"intake\.md", "the clinic's pre-procedure requirements"),
    (r"drug_names\.csv / anticoagulants\.csv", "the clinic's drug list"),
    (r"anticoagulants\.csv", "the clinic's hold table"),
    (r"frequency_rules\.csv \w+", "the clinic's payer frequency rules"),
    (r">=", "≥"),
    (r"^Catalog$", "The clinic's procedure catalog"),
    (r"Medicare CMS ", "CMS "),
]
UNCERTAIN = re.compile(r"\s*\((?:unconfirmed(?: value)?(?:;[^)]*)?|confirmed)\)")


def readable_source(source: str) -> str:
    """The reference a finding rests on, in words; "(unconfirmed)" in any of its spellings
    becomes "(value to confirm with your clinic's policy)", "(confirmed)" is dropped."""
    uncertain = bool(re.search(r"\(unconfirmed", source))
    text = UNCERTAIN.sub("", source)
    for pattern, reference in REFERENCES:
        text = re.sub(pattern, reference, text)
    text = text[:1].upper() + text[1:]
    return f"{text} ({TO_CONFIRM})" if uncertain else text
