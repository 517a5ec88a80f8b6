from django.urls import path

from . import worklist_views

app_name = "history"

urlpatterns = [
    path("worklist/", worklist_views.worklist, name="worklist"),
    path("access-log/", worklist_views.access_log, name="access-log"),
]
