"""Findings as a physician reads them, including those saved before sources were worded."""

from django import template

from procedures.sources import readable_source

register = template.Library()


@register.filter(name="readable_source")
def readable_source_filter(source: str) -> str:
    return readable_source(source or "")
