from django.urls import path

from .views import HistoryApi

urlpatterns = [
    path("patients/<uuid:patient_id>/history/", HistoryApi.as_view(), name="api-patient-history"),
]
