from django.urls import path, re_path

from .views import InstanceView, MetadataView, SearchByPostView, TypeView, UnknownView

# The name of each type's id in its route: where it names one of a patient's rows, the name
# tests/test_read_audit.py fills from that table.
ID_NAMES = {
    "Patient": "patient_id",
    "Practitioner": "provider_id",
    "PractitionerRole": "provider_id",
    "Schedule": "provider_id",
    "Organization": "organization_id",
    "Location": "location_id",
    "Slot": "slot_id",
    "Appointment": "appointment_id",
    "Procedure": "record_id",
    "Observation": "assessment_id",
    "QuestionnaireResponse": "intake_id",
    "MedicationStatement": "medication_id",
    "AllergyIntolerance": "allergy_id",
    "Condition": "condition_id",
}

app_name = "fhir"
urlpatterns = [
    path("metadata", MetadataView.as_view(), name="metadata"),
    *(
        path(name, TypeView.as_view(resource_type=name), name=f"{name.lower()}-type")
        for name in ID_NAMES
    ),
    *(
        path(
            f"{name}/_search",
            SearchByPostView.as_view(resource_type=name),
            name=f"{name.lower()}-search",
        )
        for name in ID_NAMES
    ),
    *(
        path(
            f"{name}/<str:{id_name}>",
            InstanceView.as_view(resource_type=name),
            name=f"{name.lower()}-instance",
        )
        for name, id_name in ID_NAMES.items()
    ),
    re_path(r"^.*$", UnknownView.as_view(), name="unknown"),
]
