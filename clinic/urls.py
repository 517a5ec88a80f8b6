from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clinic.core.views import healthz

api_v1 = [
    path("", include("clinic.users.api_urls")),
    path("", include("patients.api_urls")),
    path("", include("procedures.api_urls")),
    path("", include("scheduling.api_urls")),
    path("", include("history.api_urls")),
    path("", include("reports.api_urls")),
]

urlpatterns = [
    path("", include("clinic.users.urls")),
    path("accounts/", include("portal.account_urls")),
    path("healthz", healthz, name="healthz"),
    path("manage/", include("overview.urls")),
    path("reports/", include("reports.outcome_urls")),
    path("reports/", include("reports.urls")),
    path("desk/", include("scheduling.urls")),
    path("patients/<uuid:patient_id>/history/", include("history.patient_urls")),
    path("patients/", include("patients.urls")),
    path("history/", include("history.urls")),
    path("procedures/", include("procedures.urls")),
    path("portal/", include("portal.urls")),
    path("", include("notifications.urls")),
    path("", include("links.urls")),
    path("", include("scheduling.feed_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("fhir/", include("interop.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from its own URL (?script): the CSP
    # refuses inline scripts.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
]

handler404 = "clinic.core.views.page_not_found"
handler500 = "clinic.core.views.server_error"

admin.site.site_header = "Clinic administration"
admin.site.site_title = "Clinic administration"
