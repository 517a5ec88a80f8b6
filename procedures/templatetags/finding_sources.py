"""Findings as a physician reads them, including those saved before sources were worded
and before findings said until when and what to do."""

from typing import Any

from django import template
from django.utils import timezone

from procedures.sources import readable_source
from procedures.until import until_words

register = template.Library()


@register.filter(name="readable_source")
def readable_source_filter(source: str) -> str:
    return readable_source(source or "")


@register.filter(name="finding_until")
def finding_until(finding: dict[str, Any]) -> str:
    """ "Until 2026-07-01: ...", "Eligible now" once an eligibility date has passed (today
    in the clinic's zone), "Until the INR is 1.4 or lower", "Does not expire"; "" for a
    finding saved without one."""
    return until_words(finding.get("until"), timezone.localdate())
