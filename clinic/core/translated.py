"""Catalog text that managers keep in two languages (a visit type's name, a procedure's
preparation): the reader's language picks the column (docs/decisions/0034-spanish.md)."""

from django.utils import translation

SPANISH = "es"


def in_language(english: str, spanish: str) -> str:
    """The Spanish when the active language is Spanish and a manager filled it in; the
    English otherwise. Staff pages run in English, so they always read the English."""
    language = translation.get_language() or ""
    if language.split("-")[0] == SPANISH and spanish.strip():
        return spanish
    return english
