"""Patients' dates in the page's language (clinic/core/spoken_dates.py).

{% load spoken_dates %}
{{ procedure.planned_date|long_day }}        -> "lunes, 7 de diciembre de 2026"
{{ visit.start|visit_when:visit.location }}  -> "lunes 7 de diciembre a las 9:30 a. m."
{{ visit.start|timezone:zone|spoken:"time" }} -> "9:30 a. m." (a shape of PAGE_STYLES)
"""

from datetime import date, datetime

from django import template

from clinic.core import spoken_dates
from clinic.core.times import zone_of

register = template.Library()


@register.filter
def long_day(value: object) -> str:
    if isinstance(value, datetime):
        value = value.date()
    return spoken_dates.long_day(value) if isinstance(value, date) else ""


@register.filter
def visit_when(value: object, where: object = None) -> str:
    if not isinstance(value, datetime) or value.tzinfo is None:
        return ""
    return spoken_dates.visit_when(value, zone_of(where))


@register.filter
def spoken(value: object, style: str) -> str:
    if not isinstance(value, date) or style not in spoken_dates.PAGE_STYLES:
        return ""
    return spoken_dates.on_page(value, style)
