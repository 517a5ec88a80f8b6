from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("messages/failed/", views.failed_messages, name="failed"),
    path("messages/patient/<uuid:patient_id>/", views.patient_messages, name="patient"),
    path("messages/<uuid:message_id>/retry/", views.retry, name="retry"),
]
