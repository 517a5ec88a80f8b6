from django.urls import path

from . import audit_views, import_views, signin_views, views

app_name = "overview"
urlpatterns = [
    path("", views.manager_home, name="home"),
    path("audit/", audit_views.audit_log, name="audit-log"),
    path("audit/export.csv", audit_views.audit_export, name="audit-export"),
    path("audit/<uuid:event_id>/", audit_views.audit_event_detail, name="audit-event"),
    path("sign-ins/", signin_views.sign_ins, name="sign-ins"),
    path("sign-ins/lift/", signin_views.sign_in_pause_lift, name="sign-in-lift"),
    path("imports/", import_views.imports, name="imports"),
    path("imports/<uuid:job_id>/", import_views.import_job, name="import"),
    path("imports/<uuid:job_id>/status/", import_views.import_job_progress, name="import-status"),
    path("imports/<uuid:job_id>/confirm/", import_views.import_job_start, name="import-confirm"),
    path("imports/<uuid:job_id>/discard/", import_views.import_job_drop, name="import-discard"),
]
