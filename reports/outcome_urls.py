"""The outcomes registry's own pages, under /reports/ (the registry itself is the report
named "outcomes" on helper pages /reports/outcomes/)."""

from django.urls import path

from . import outcome_views

urlpatterns = [
    path(
        "outcomes/patients/",
        outcome_views.outcome_patients_page,
        name="report-outcome-patients",
    ),
    path("research/export/", outcome_views.research_export_page, name="report-research-export"),
]
