from django.urls import path

from . import apis, urgent_apis

entry = "<uuid:entry_id>/"
urlpatterns = [
    path("patients/", apis.PatientListApi.as_view(), name="api-patients"),
    path("patients/search/", apis.PatientSearchApi.as_view(), name="api-patients-search"),
    path("patients/<uuid:patient_id>/", apis.PatientDetailApi.as_view(), name="api-patient"),
    path("patients/<uuid:patient_id>/allergies/", apis.AllergyListApi.as_view()),
    path("patients/<uuid:patient_id>/allergies/" + entry, apis.AllergyDetailApi.as_view()),
    path("patients/<uuid:patient_id>/medications/", apis.MedicationListApi.as_view()),
    path("patients/<uuid:patient_id>/medications/" + entry, apis.MedicationDetailApi.as_view()),
    path("patients/<uuid:patient_id>/conditions/", apis.ConditionListApi.as_view()),
    path("patients/<uuid:patient_id>/conditions/" + entry, apis.ConditionDetailApi.as_view()),
    path("patients/<uuid:patient_id>/devices/", apis.DeviceListApi.as_view()),
    path("patients/<uuid:patient_id>/devices/" + entry, apis.DeviceDetailApi.as_view()),
    path("patients/<uuid:patient_id>/assessments/", apis.AssessmentListApi.as_view()),
    path("patients/<uuid:patient_id>/labs/", apis.LabResultListApi.as_view()),
    path("patients/<uuid:patient_id>/intakes/", apis.PatientIntakeListApi.as_view()),
    path("patients/<uuid:patient_id>/urgent/", urgent_apis.UrgentFlagListApi.as_view()),
    path(
        "patients/<uuid:patient_id>/urgent/acknowledge/",
        urgent_apis.UrgentAcknowledgeApi.as_view(),
    ),
    path("intakes/", apis.IntakeQueueApi.as_view(), name="api-intake-queue"),
    path("intakes/<uuid:intake_id>/", apis.IntakeDetailApi.as_view()),
    path(
        "intakes/<uuid:intake_id>/items/<uuid:item_id>/decision/", apis.IntakeDecisionApi.as_view()
    ),
    path("intakes/<uuid:intake_id>/reviewed/", apis.IntakeReviewedApi.as_view()),
    path("duplicates/", apis.DuplicateListApi.as_view()),
    path("duplicates/<uuid:duplicate_id>/merge/", apis.DuplicateMergeApi.as_view()),
    path("duplicates/<uuid:duplicate_id>/dismiss/", apis.DuplicateDismissApi.as_view()),
]
