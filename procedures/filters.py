"""Query-string filters of the procedures API. The selectors decide which orders and records a
role may see; these FilterSets narrow that further and refuse a value they cannot read (a 400
naming the field)."""

import django_filters

from patients.filters import PatientOfTheCallerFilter

from .models import ProcedureOrder, ProcedureRecord


class OrderFilter(django_filters.FilterSet):
    patient = PatientOfTheCallerFilter()

    class Meta:
        model = ProcedureOrder
        fields = ("patient", "status")


class RecordFilter(django_filters.FilterSet):
    patient = PatientOfTheCallerFilter()

    class Meta:
        model = ProcedureRecord
        fields = ("patient",)
