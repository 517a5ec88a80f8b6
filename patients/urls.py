from django.urls import path

from . import assessment_views, medication_views, urgent_views, views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("intakes/", views.intake_queue, name="intake-queue"),
    path("intakes/<uuid:intake_id>/", views.intake_review, name="intake"),
    path(
        "intakes/<uuid:intake_id>/items/<uuid:item_id>/decide/",
        views.intake_item_decide,
        name="intake-item-decide",
    ),
    path("intakes/<uuid:intake_id>/reviewed/", views.intake_reviewed, name="intake-reviewed"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/<uuid:candidate_id>/merge/", views.duplicate_merge, name="duplicate-merge"),
    path(
        "duplicates/<uuid:candidate_id>/dismiss/",
        views.duplicate_dismiss,
        name="duplicate-dismiss",
    ),
    path("<uuid:patient_id>/", views.patient_chart, name="chart"),
    path("<uuid:patient_id>/edit/", views.patient_edit, name="edit"),
    path(
        "<uuid:patient_id>/medications/add/",
        medication_views.medication_add,
        name="medication-add",
    ),
    path(
        "<uuid:patient_id>/medications/<uuid:medication_id>/classify/",
        medication_views.medication_classify,
        name="medication-classify",
    ),
    path("<uuid:patient_id>/labs/add/", medication_views.lab_add, name="lab-add"),
    path(
        "<uuid:patient_id>/assessments/new/",
        assessment_views.assessment_record,
        name="assessment-record",
    ),
    path(
        "<uuid:patient_id>/urgent/acknowledge/",
        urgent_views.urgent_acknowledge,
        name="urgent-acknowledge",
    ),
]
