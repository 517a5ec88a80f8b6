"""The physician's view's filters: which kinds of event and which region. The API refuses
a value it cannot read (a 400 naming the field); the page shows everything instead."""

from typing import Any

from django import forms
from django.http import QueryDict

from clinic.core.errors import ValidationFailed

from .selectors import KINDS, REGIONS


class HistoryFilterForm(forms.Form):
    kind = forms.MultipleChoiceField(choices=list(KINDS.items()), required=False)
    region = forms.ChoiceField(choices=[("", "All"), *REGIONS.items()], required=False)

    def as_arguments(self) -> dict[str, Any]:
        return {
            "kinds": self.cleaned_data["kind"] or None,
            "region": self.cleaned_data["region"] or None,
        }


def history_filters(params: QueryDict, *, strict: bool) -> dict[str, Any]:
    """`patient_history`'s filter arguments from a query string. `strict` (the API): an
    unknown kind or region is a ValidationFailed; otherwise it is left out."""
    form = HistoryFilterForm(params)
    if form.is_valid():
        return form.as_arguments()
    if strict:
        raise ValidationFailed({field: list(errors) for field, errors in form.errors.items()})
    kinds = [kind for kind in params.getlist("kind") if kind in KINDS]
    region = params.get("region")
    return {"kinds": kinds or None, "region": region if region in REGIONS else None}
