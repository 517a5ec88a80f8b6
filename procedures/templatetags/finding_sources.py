"""Findings as a physician reads them, including those saved before sources were worded
and before findings said until when and what to do."""

from datetime import date
from typing import Any

from django import template
from django.utils import timezone

from procedures.sources import readable_source
from procedures.until import until_words

register = template.Library()


@register.filter(name="readable_source")
def readable_source_filter(source: str) -> str:
    return readable_source(source or "")


@register.simple_tag(takes_context=True)
def finding_until(context: template.Context, finding: dict[str, Any]) -> str:
    """ "Until 2026-07-01: ...", "Eligible now" once an eligibility date has passed, "Until
    the INR is 1.4 or lower", "Does not expire"; "" for a finding saved without one. Judged
    on `finding_day` where the page gives it (today at the visit's location), else on today
    in the clinic's zone."""
    day = context.get("finding_day")
    return until_words(finding.get("until"), day if isinstance(day, date) else timezone.localdate())
