"""The clinic's list of ICD-10-CM codes (patients/data/icd10_pain.csv): the indications of
procedure orders and the codes of a chart's conditions.

The codes and their descriptions are from the CMS ICD-10-CM code files (FY2025 release); the
list is a starting point a pain clinic uses, not the whole classification, so a code outside
it may still be entered: the order and condition forms, the API and the admin flag it for a
second look.
"""

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.core.validators import RegexValidator

ICD10_FILE = Path(__file__).parent / "data" / "icd10_pain.csv"
NOT_IN_LIST = "not in the clinic's list"
ICD10_PATTERN = r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$"
icd10_format = RegexValidator(ICD10_PATTERN, "Enter an ICD-10-CM code such as M54.16.")


@dataclass(frozen=True)
class Diagnosis:
    code: str
    description: str
    group: str
    certain: bool

    @property
    def label(self) -> str:
        return f"{self.code} {self.description}"


@cache
def clinic_codes() -> tuple[Diagnosis, ...]:
    with ICD10_FILE.open(newline="", encoding="utf-8") as handle:
        return tuple(
            Diagnosis(
                code=row["code"],
                description=row["description"],
                group=row["group"],
                certain=row["certain"] == "yes",
            )
            for row in csv.DictReader(handle)
        )


def diagnosis_for(code: str) -> Diagnosis | None:
    wanted = code.strip().upper()
    return next((d for d in clinic_codes() if d.code == wanted), None)


def in_clinic_list(code: str) -> bool:
    return diagnosis_for(code) is not None


def list_flag(code: str) -> str:
    """The warning a code outside the clinic's list carries; empty for a listed or no code."""
    return NOT_IN_LIST if code and not in_clinic_list(code) else ""
