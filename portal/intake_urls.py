"""The portal's intake, under /portal/intake/ (names in the "portal" namespace)."""

from django.urls import path

from . import intake_views as views
from .intake_forms import STEP_FORMS

urlpatterns = [
    path("", views.intake_start, name="intake"),
    *(
        path(f"{step}/", views.intake_step, {"step": step}, name=f"intake-{step}")
        for step in STEP_FORMS
    ),
    path("review/", views.intake_review, name="intake-review"),
    path("done/", views.intake_done, name="intake-done"),
]
