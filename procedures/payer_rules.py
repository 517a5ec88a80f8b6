"""Each payer's rule set: the Medicare LCD rules (SafetyThreshold) with the payer's own rows
(PayerRule) in their place, and the name of the rules a finding applied.

A patient without a payer gets the Medicare LCD rules, and every finding those rules give
says "payer unknown: Medicare LCD rules applied". The two private-payer rows of
frequency_rules.csv (eviCore, BCBS; certain=no) become rows of those payers' rule sets
(migration procedures/0008_payer_rules, from `private_payer_rows`).
"""

import re
from collections.abc import Iterable
from dataclasses import Field, dataclass, field, replace
from decimal import Decimal
from typing import Any, ClassVar, Protocol, TypeVar

from patients.models import Patient

from .catalog import read_csv
from .models import PayerRule, PayerRuleKey

UNKNOWN = "payer unknown: Medicare LCD rules applied"
PAYER_KEYS = frozenset(PayerRuleKey.values)

# Which rule values decide a finding, by its code (the payer-governed findings only).
FINDING_KEYS: dict[str, tuple[str, ...]] = {
    "esi_retry_interval": ("esi_retry_min_days",),
    "esi_repeat_response": ("esi_repeat_min_relief", "esi_repeat_min_days"),
    "esi_short_window": ("esi_short_window_max_sessions", "esi_short_window_days"),
    "rfa_repeat_response": ("rfa_repeat_min_relief", "rfa_repeat_min_days"),
    "rfa_needs_positive_blocks": (
        "mbb_positive_relief",
        "mbb_positive_blocks_for_rfa",
        "mbb_second_block_min_days",
    ),
    "rfa_blocks": ("mbb_positive_relief", "mbb_positive_blocks_for_rfa"),
    "mbb_interval": ("mbb_second_block_min_days",),
    "si_rfa_needs_positive_block": ("si_positive_relief",),
    "si_block": ("si_positive_relief",),
}


def keys_of(code: str) -> tuple[str, ...]:
    """The payer-governed rule values a finding code depends on (none: not a payer rule)."""
    if code.startswith("session_limit:"):
        return (code.split(":", 1)[1], "frequency_window_days")
    return FINDING_KEYS.get(code, ())


class Named(Protocol):
    """A finding: a dataclass with a code and a source (safety.Finding)."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def code(self) -> str: ...

    @property
    def source(self) -> str: ...


F = TypeVar("F", bound=Named)


@dataclass(frozen=True)
class RuleSet:
    """The rules applied to one patient. `applied` is False for callers that did not load
    the patient's payer (their findings keep the source as written)."""

    payer_name: str | None = None
    rows: dict[str, PayerRule] = field(default_factory=dict)
    applied: bool = True

    @property
    def label(self) -> str:
        return self.payer_name or "Medicare LCD"

    def thresholds(self, base: dict[str, Decimal]) -> dict[str, Decimal]:
        return base | {key: row.value for key, row in self.rows.items()}

    def source_for(self, keys: Iterable[str], default: str) -> str:
        own = [self.rows[key] for key in keys if key in self.rows]
        if own:
            unconfirmed = "" if all(row.certain for row in own) else " (unconfirmed)"
            return f"{own[0].source}{unconfirmed}, rule set of {self.payer_name}"
        if self.payer_name is None:
            return f"Medicare {default} ({UNKNOWN})"
        return f"Medicare {default} (Medicare LCD rules for {self.payer_name})"

    def name(self, finding: F) -> F:
        """The finding with the rules it applied named in its source."""
        keys = [key for key in keys_of(finding.code) if key in PAYER_KEYS]
        if not self.applied or not keys:
            return finding
        return replace(finding, source=self.source_for(keys, finding.source))


NOT_APPLIED = RuleSet(applied=False)


def rule_set_for(patient: Patient) -> RuleSet:
    """The patient's payer's rule set: no query without a payer, two with one."""
    if patient.payer_id is None:
        return RuleSet()
    payer = patient.payer
    assert payer is not None
    rows = {row.key: row for row in PayerRule.objects.filter(payer_id=payer.pk)}
    return RuleSet(payer_name=payer.name, rows=rows)


# --- frequency_rules.csv's private-payer rows, as PayerRule rows ------------------------------

# The source as the CSV names it -> the payer record it belongs to (patients.payers.SEED_PAYERS).
PRIVATE_PAYERS = {
    "eviCore guideline": "eviCore-managed commercial plan",
    "BCBS MA policy": "Blue Cross Blue Shield of Massachusetts",
}
MONTH_DAYS = {6: 182, 12: 365}  # as the thresholds count 6 and 12 months


def _esi_values(text: str) -> dict[str, Decimal]:
    """'>=14 days apart; <=3 per 6 months; <=4 per 12 months' -> the ESI rule values."""
    values: dict[str, Decimal] = {}
    apart = re.search(r">=\s*(\d+) days apart", text)
    if apart:
        values["esi_retry_min_days"] = Decimal(apart.group(1))
    for most, months in re.findall(r"<=\s*(\d+) per (\d+) months", text):
        if int(months) == 12:
            values["esi_max_sessions"] = Decimal(most)
        else:
            values["esi_short_window_max_sessions"] = Decimal(most)
            values["esi_short_window_days"] = Decimal(MONTH_DAYS[int(months)])
    return values


def private_payer_rows() -> list[dict]:
    """One row per rule value of each private-payer row of frequency_rules.csv."""
    rows = []
    for row in read_csv("frequency_rules.csv"):
        payer = PRIVATE_PAYERS.get(row["source"])
        if payer is None or row["applies_to"] != "esi":
            continue
        for key, value in _esi_values(row["value"]).items():
            rows.append(
                {
                    "payer": payer,
                    "key": key,
                    "value": value,
                    "source": f"{row['source']} ({row['rule']})",
                    "certain": row["certain"].strip().lower() == "yes",
                    "note": f"frequency_rules.csv {row['rule']}: {row['value']} ({row['region_scope']})",
                }
            )
    return rows


def load_private_payer_rules(apps, schema_editor=None) -> None:
    """RunPython: the private payers' rows (new ones only: a manager's edits are kept)."""
    payer_model = apps.get_model("patients", "Payer")
    rule_model = apps.get_model("procedures", "PayerRule")
    for row in private_payer_rows():
        payer = payer_model.objects.filter(name=row.pop("payer")).first()
        if payer is not None:
            rule_model.objects.get_or_create(payer=payer, key=row["key"], defaults=row)
