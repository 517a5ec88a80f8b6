"""The catalog's CPT codes as a structured list (procedures/data/extra/cpt_codes.csv) and the
reading of the free text the catalog held before (docs/decisions: structured codes).

The codes and the clinic's own short descriptions only: the CPT descriptors are the AMA's.
Add-on codes are those on the CMS NCCI add-on code list.
"""

import csv
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

CPT_FILE = Path(__file__).parent / "data" / "extra" / "cpt_codes.csv"
# Category I is five digits; categories II and III end in F and T.
CPT_PATTERN = r"\d{4}[0-9FT]"
CODE = re.compile(rf"\b({CPT_PATTERN})\b")
CODE_RANGE = re.compile(rf"\b({CPT_PATTERN})\s*-\s*({CPT_PATTERN})\b")
MODIFIER = re.compile(r"\b([A-Z0-9]{2}) modifier")
UNCERTAIN = re.compile(rf"\b{CPT_PATTERN}\s+U\b")
# The catalog's add-on codes (the CMS NCCI add-on code list, pain-procedure rows).
ADD_ON_CODES = frozenset(
    {"64480", "64484", "64491", "64492", "64494", "64495", "64634", "64636", "22512", "22515"}
)


@dataclass(frozen=True)
class CptCode:
    code: str
    description: str = ""
    add_on: bool = False
    modifiers: list[str] = field(default_factory=list)
    certain: bool = True
    note: str = ""

    def as_fields(self) -> dict:
        return asdict(self)


def _codes_in(text: str) -> list[str]:
    """Every code the text names, in order, a range ("62360-62362") spelled out."""
    codes: list[str] = []
    position = 0
    for found in CODE_RANGE.finditer(text):
        codes += CODE.findall(text[position : found.start()])
        first, last = found.groups()
        if first.isdigit() and last.isdigit() and int(first) < int(last):
            codes += [str(number) for number in range(int(first), int(last) + 1)]
        else:
            codes += [first, last]
        position = found.end()
    codes += CODE.findall(text[position:])
    return list(dict.fromkeys(codes))


def parse_cpt_text(text: str) -> list[CptCode]:
    """The structured codes in the catalog's old free text, e.g. "64530 (neurolysis 64680 U)".
    The text is kept in each code's note: its wording does not map to one code reliably."""
    modifiers = MODIFIER.findall(text)
    uncertain = {found.group(0).split()[0] for found in UNCERTAIN.finditer(text)}
    note = f"From the catalog's text: {text.strip()}"[:300]
    return [
        CptCode(
            code=code,
            add_on=code in ADD_ON_CODES,
            modifiers=modifiers,
            certain=code not in uncertain and "(U)" not in text,
            note=note,
        )
        for code in _codes_in(text)
    ]


def _yes(text: str) -> bool:
    return text.strip().lower() == "yes"


@cache
def catalog_cpt_codes() -> dict[str, tuple[CptCode, ...]]:
    """The shipped codes of each catalog procedure, keyed by the procedure's code."""
    codes: dict[str, list[CptCode]] = {}
    with CPT_FILE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            codes.setdefault(row["procedure"], []).append(
                CptCode(
                    code=row["code"],
                    description=row["description"],
                    add_on=_yes(row["add_on"]),
                    modifiers=row["modifiers"].split(),
                    certain=_yes(row["certain"]),
                    note=row["source"],
                )
            )
    return {procedure: tuple(rows) for procedure, rows in codes.items()}


def codes_for(procedure: str, old_text: str, shipped_text: str) -> list[CptCode]:
    """The structured codes of one catalog row: the shipped list while the row's text is the
    one that shipped, else what its (edited) text names."""
    shipped = catalog_cpt_codes().get(procedure)
    if shipped and old_text.strip() == shipped_text.strip():
        return list(shipped)
    return parse_cpt_text(old_text)


def save_codes(procedure_code_model, procedure_type, codes: list[CptCode]) -> None:
    """Replace a procedure type's codes (RunPython and the catalog loader both use this)."""
    procedure_code_model.objects.filter(procedure_type=procedure_type).delete()
    procedure_code_model.objects.bulk_create(
        procedure_code_model(procedure_type=procedure_type, position=position, **code.as_fields())
        for position, code in enumerate(codes)
    )
