"""The history page hangs under the patient's address: /patients/<id>/history/."""

from django.urls import path

from .views import history_page

urlpatterns = [path("", history_page, name="patient-history")]
