"""Query-string filters of the scheduling API. The selectors decide which appointments a role
may see; these FilterSets narrow that further and refuse a value they cannot read (a 400
naming the field), such as an unknown location or a day without its location."""

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from patients.filters import PatientOfTheCallerFilter
from sites.models import Location, Provider

from .models import Appointment

LOCAL_DAY_NEEDS_LOCATION = "Give a date as YYYY-MM-DD together with a location."


class ProviderFilter(django_filters.FilterSet):
    location = django_filters.ModelChoiceFilter(
        field_name="locations",
        queryset=Location.objects.all(),
        help_text="Only the providers who work at this location.",
    )

    class Meta:
        model = Provider
        fields = ("location",)


class LocalDayForm(forms.Form):
    """`?date=` is a day in one location's time zone, so it needs `?location=` too."""

    def clean(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        location_missing = not cleaned.get("location") and "location" not in self.errors
        if cleaned.get("date") and location_missing:
            self.add_error("date", LOCAL_DAY_NEEDS_LOCATION)
        return cleaned


class AppointmentFilter(django_filters.FilterSet):
    patient = PatientOfTheCallerFilter()
    date = django_filters.DateFilter(
        method="filter_local_day", help_text="A local day (YYYY-MM-DD) at `location`."
    )

    class Meta:
        model = Appointment
        fields = ("location", "provider", "patient", "status", "date")
        form = LocalDayForm

    def filter_local_day(
        self, queryset: QuerySet[Appointment], name: str, value: dt.date
    ) -> QuerySet[Appointment]:
        location: Location = self.form.cleaned_data["location"]
        start = dt.datetime.combine(value, dt.time.min).replace(tzinfo=location.zone)
        return queryset.filter(start__gte=start, start__lt=start + dt.timedelta(days=1))
