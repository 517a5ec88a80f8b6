from django.urls import path

from . import audit_views, signin_views, views

app_name = "overview"
urlpatterns = [
    path("", views.manager_home, name="home"),
    path("audit/", audit_views.audit_log, name="audit-log"),
    path("audit/export.csv", audit_views.audit_export, name="audit-export"),
    path("audit/<uuid:event_id>/", audit_views.audit_event_detail, name="audit-event"),
    path("sign-ins/", signin_views.sign_ins, name="sign-ins"),
    path("sign-ins/lift/", signin_views.sign_in_pause_lift, name="sign-in-lift"),
]
