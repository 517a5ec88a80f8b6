"""The drill-down's and the research export's questions, validated: the report filters plus
the registry row a drill-down opens, or the dates an export covers."""

from django import forms

from .forms import ReportFilterForm
from .outcome_sql import DIMENSIONS, FOLLOW_UP_POINTS

UUID_GROUPS = ("procedure_type", "provider")


class OutcomePatientsForm(ReportFilterForm):
    """The filters of the registry page, and one row of it: a group and a follow-up point."""

    dimension = forms.ChoiceField(choices=list(DIMENSIONS.items()))
    group = forms.CharField(max_length=60)
    point = forms.ChoiceField(
        choices=[("", "Every procedure"), *((p.key, p.label) for p in FOLLOW_UP_POINTS)],
        required=False,
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("dimension") in UUID_GROUPS and "group" in data:
            try:
                forms.UUIDField().clean(data["group"])
            except forms.ValidationError:
                self.add_error("group", "Enter the group's id as the registry links it.")
        return data


class ResearchExportForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The end date is before the start date.")
        return data
