"""Drug names as patients and staff write them, resolved to generics and classes.

The vocabulary (DrugName, loaded from vocabulary/drug_names.csv by the catalog's data
migration and edited in the admin) maps brand, combination and common names to their
generic(s) and class(es). Resolution ignores case, spacing and punctuation, and finds a
listed name inside a longer entry ("Eliquis 5 mg twice daily", "low-dose aspirin"); the
longest listed name wins where two overlap ("Bayer Aspirin" over "aspirin"). A line that
names two drugs ("aspirin and Plavix") resolves to both.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Longest run of words a listed name has ("omega-3 acid ethyl esters" is five).
MAX_WORDS = 6


def _words(text: str) -> list[str]:
    """Lower-case words, digits apart from letters ("Eliquis5mg" -> eliquis, 5, mg)."""
    return re.findall(r"[a-z]+|[0-9]+", (text or "").lower())


def name_key(text: str) -> str:
    """The key a name is looked up by: its words joined, without case or spacing."""
    return "".join(_words(text))


def candidate_keys(text: str) -> dict[str, tuple[int, int]]:
    """Every run of up to MAX_WORDS words in the text, as a key, with its word span."""
    words = _words(text)
    spans: dict[str, tuple[int, int]] = {}
    for start in range(len(words)):
        for end in range(start + 1, min(len(words), start + MAX_WORDS) + 1):
            spans.setdefault("".join(words[start:end]), (start, end))
    return spans


@dataclass(frozen=True)
class VocabularyRow:
    name: str
    generics: tuple[str, ...]
    drug_classes: tuple[str, ...]
    certain: bool = True


@dataclass
class Resolution:
    """What a medication name resolves to; empty when the vocabulary does not know it."""

    names: list[str] = field(default_factory=list)
    generics: list[str] = field(default_factory=list)
    drug_classes: list[str] = field(default_factory=list)
    certain: bool = True

    @property
    def recognised(self) -> bool:
        return bool(self.generics)


def resolve_with(text: str, rows_by_key: dict[str, VocabularyRow]) -> Resolution:
    """Resolve `text` against rows keyed by name_key: longest matches first, no overlaps."""
    spans = candidate_keys(text)
    found = sorted(
        ((span, rows_by_key[key]) for key, span in spans.items() if key in rows_by_key),
        key=lambda item: (-(item[0][1] - item[0][0]), item[0][0]),
    )
    taken: set[int] = set()
    result = Resolution()
    for (start, end), row in found:
        if taken & set(range(start, end)):
            continue
        taken |= set(range(start, end))
        result.names.append(row.name)
        result.generics += [g for g in row.generics if g not in result.generics]
        result.drug_classes += [c for c in row.drug_classes if c not in result.drug_classes]
        result.certain = result.certain and row.certain
    return result


def rows_by_key(rows: Iterable) -> dict[str, VocabularyRow]:
    """Vocabulary rows (DrugName instances, current or historical) keyed for resolve_with."""
    return {
        name_key(row.name): VocabularyRow(
            row.name, tuple(row.generics), tuple(row.drug_classes), row.certain
        )
        for row in rows
    }


def resolve(text: str, *, model=None) -> Resolution:
    """Resolve a medication name against the stored vocabulary (one query)."""
    return resolve_each([text], model=model)[0]


def resolve_each(texts: list[str], *, model=None) -> list[Resolution]:
    """Resolve several medication names against the stored vocabulary (one query)."""
    if model is None:
        from .models import DrugName

        model = DrugName
    keys = {key for text in texts for key in candidate_keys(text)}
    rows = rows_by_key(model.objects.filter(key__in=keys)) if keys else {}
    return [resolve_with(text, rows) for text in texts]


def names_the_same_drug(name: str, others: list[str]) -> bool:
    """Whether one of `others` names the drug `name` does: a shared generic, or (for names
    the vocabulary does not know) the same name written another way."""
    found, *listed = resolve_each([name, *others])
    if found.recognised:
        return any(set(found.generics) & set(other.generics) for other in listed)
    return name_key(name) in {name_key(other) for other in others}
