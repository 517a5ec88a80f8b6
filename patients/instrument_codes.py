"""The LOINC codes of the instruments and their items (patients/data/loinc.csv, each code with
its source; one file for the chart and the FHIR API). A row with no code, or certain=no, is a
term not confirmed on loinc.org: the clinic's own code stands alone until one is.

Item "" is an instrument's total; item "panel" its LOINC panel; any other item a question
key of patients/instruments.py. LOINC terms: Regenstrief Institute, loinc.org.
"""

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LOINC_FILE = Path(__file__).parent / "data" / "loinc.csv"
TOTAL = ""
PANEL = "panel"


@dataclass(frozen=True)
class InstrumentCode:
    instrument: str
    item: str
    code: str  # empty when LOINC has no term we could confirm
    display: str
    certain: bool
    source: str


@cache
def instrument_codes() -> dict[tuple[str, str], InstrumentCode]:
    with LOINC_FILE.open(newline="", encoding="utf-8") as data:
        rows = [
            InstrumentCode(
                instrument=row["instrument"],
                item=row["item"],
                code=row["code"],
                display=row["display"],
                certain=row["certain"] == "yes",
                source=row["source"],
            )
            for row in csv.DictReader(data)
        ]
    return {(row.instrument, row.item): row for row in rows}


def loinc_codes_of(instrument: str) -> set[str]:
    return {
        row.code for key, row in instrument_codes().items() if key[0] == instrument and row.code
    }


def instrument_of_loinc(code: str) -> tuple[str, str] | None:
    """The (instrument, item) a LOINC code stands for; a code two instruments share (a PHQ-9
    item the PHQ-2 reuses) stands for the one listed first."""
    return next((key for key, row in instrument_codes().items() if row.code == code), None)
