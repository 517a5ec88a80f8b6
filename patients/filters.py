"""Query-string filters of the patients API. The selectors decide which rows a role may see;
these FilterSets narrow that queryset further and refuse a value they cannot read (a 400
naming the field), never answering it with an empty list."""

import django_filters
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Assessment, LabResult, Patient
from .selectors import patients_matching, patients_visible_to


class PatientOfTheCallerFilter(django_filters.ModelChoiceFilter):
    """`?patient=` naming one of the patients the caller may see. Any other id is refused
    like an unknown one, so the answer tells nothing about records out of reach."""

    def get_queryset(self, request: HttpRequest | None) -> QuerySet[Patient]:
        if request is None:  # the schema generator has no caller
            return Patient.objects.none()
        return patients_visible_to(request.user)


class PatientFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="Name, MRN, date of birth or phone."
    )

    class Meta:
        model = Patient
        fields = ("search",)

    def filter_search(self, queryset: QuerySet[Patient], name: str, value: str) -> QuerySet:
        return patients_matching(queryset, query=value)


class AssessmentFilter(django_filters.FilterSet):
    class Meta:
        model = Assessment
        fields = ("instrument", "body_region")


class LabResultFilter(django_filters.FilterSet):
    taken_after = django_filters.DateFilter(field_name="taken_on", lookup_expr="gte")

    class Meta:
        model = LabResult
        fields = ("kind", "taken_after")
