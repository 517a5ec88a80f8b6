"""Sources as a physician reads them: the reference data's keys ("N18", "LCD-ESI",
"procedures.csv") become the guideline or coverage document they stand for, and a value
that could not be checked against the primary text says what to do about it.

The references are those of /work/shared/domain/README.md ("Sources"). Tables and
sections inside the ASRA guideline were not checked against its text, so none is named.
"""

import re

TO_CONFIRM = "value to confirm with your clinic's policy"
ASRA_2018 = (
    "ASRA Pain Medicine guidelines on interventional spine and pain procedures in patients "
    "on antiplatelet and anticoagulant medications (Narouze et al., Reg Anesth Pain Med "
    "2018;43:225-262)"
)
# (pattern, readable reference), tried in order; a pattern eats the key's own parenthesis
# ("LCD-ESI (L39240; L33906 same)") so the number is not said twice.
REFERENCES: list[tuple[str, str]] = [
    (r"N18 via secondary calculator", f"{ASRA_2018}, hold intervals as tabulated by a summary"),
    (r"\bN18\b", ASRA_2018),
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
