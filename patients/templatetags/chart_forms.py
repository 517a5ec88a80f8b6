"""The chart page's medication and lab forms, unbound, for the template to render."""

from django import template

from patients.forms import ClassifyForm, LabForm, MedicationForm

register = template.Library()


@register.simple_tag
def chart_forms() -> dict:
    return {"medication": MedicationForm(), "classify": ClassifyForm(), "lab": LabForm()}
