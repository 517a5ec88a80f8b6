"""The filters every report page and API answer takes: date range, location, provider and
procedure type, validated into a `Filters`."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from clinic.core.bounds import date_bound_errors
from procedures.models import ProcedureType
from sites.models import Location, Provider

from .registry import Filters

DEFAULT_DAYS = 28
MAX_DAYS = 731  # two years: a wider span is a research question, not a report


class ReportFilterForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    location = forms.ModelChoiceField(
        queryset=Location.objects.order_by("name"), required=False, empty_label="All locations"
    )
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.order_by("last_name", "first_name"),
        required=False,
        empty_label="All providers",
    )
    procedure_type = forms.ModelChoiceField(
        queryset=ProcedureType.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label="All procedures",
        label="Procedure",
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        today = timezone.localdate()
        end: date = data.get("end") or today
        start: date = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        for field, messages in date_bound_errors({"start": start, "end": end}).items():
            self.add_error(field, messages)
        if self.errors:
            return data
        if start > end:
            self.add_error("end", "The end date is before the start date.")
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("start", f"Choose at most {MAX_DAYS} days.")
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> Filters:
        """The validated filters (call after is_valid())."""
        data = self.cleaned_data
        return Filters(
            start=data["start"],
            end=data["end"],
            location_id=_pk(data.get("location")),
            provider_id=_pk(data.get("provider")),
            procedure_type_id=_pk(data.get("procedure_type")),
        )


def _pk(row: Location | Provider | ProcedureType | None):
    return row.pk if row is not None else None
