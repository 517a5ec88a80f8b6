from django.urls import path
from django.views.generic import RedirectView

from . import worklist_views

app_name = "history"

urlpatterns = [
    path("worklist/", worklist_views.worklist, name="worklist"),
    path("my-patients/", worklist_views.my_patients, name="my-patients"),
    # The chart-access log grew into the manager's audit log (every read and write).
    path(
        "access-log/",
        RedirectView.as_view(pattern_name="overview:audit-log", query_string=True),
        name="access-log",
    ),
]
