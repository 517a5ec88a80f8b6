"""Payers: matching the insurance company as typed (a card, an intake) to a payer record.

The payer's rule set lives in procedures (procedures/payer_rules.py); here is only who the
payer is and how a free-text name finds it.
"""

import re

from .models import Payer

# (name, kind, aliases) seeded by migration patients/0007_payers; managers edit them.
SEED_PAYERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Medicare",
        "medicare",
        ("medicare part b", "original medicare", "traditional medicare", "cms medicare"),
    ),
    (
        "Blue Cross Blue Shield of Massachusetts",
        "commercial",
        ("bcbs ma", "bcbs of massachusetts", "blue cross blue shield ma", "bcbsma"),
    ),
    ("eviCore-managed commercial plan", "commercial", ("evicore",)),
    ("Aetna", "commercial", ()),
    ("Cigna", "commercial", ()),
    ("UnitedHealthcare", "commercial", ("united healthcare", "uhc")),
)


def normalise(text: str) -> str:
    """'  Blue Cross Blue-Shield of MA. ' -> 'blue cross blue shield of ma': lower case,
    punctuation to spaces, one space between words."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def names_of(name: str, aliases) -> set[str]:
    return {normalise(name), *(normalise(alias) for alias in aliases)} - {""}


def payer_match(text: str, payers=None) -> Payer | None:
    """The one active payer whose name or an alias is `text` (case, spacing and punctuation
    ignored); None when none matches or several do (a person picks then)."""
    wanted = normalise(text or "")
    if not wanted:
        return None
    payers = Payer.objects.filter(is_active=True) if payers is None else payers
    found = [p for p in payers if wanted in names_of(p.name, p.aliases)]
    return found[0] if len(found) == 1 else None
