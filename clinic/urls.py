from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clinic.core.views import healthz
from history.views import HistoryApi, history_page
from scheduling.calendar_views import provider_feed

api_v1 = [
    path("", include("clinic.users.api_urls")),
    path("", include("patients.api_urls")),
    path("", include("procedures.api_urls")),
    path("", include("scheduling.api_urls")),
    path("patients/<uuid:patient_id>/history/", HistoryApi.as_view(), name="api-patient-history"),
]

urlpatterns = [
    path("", include("clinic.users.urls")),
    path("accounts/", include("portal.account_urls")),
    path("healthz", healthz, name="healthz"),
    path("manage/", include("clinic.core.urls")),
    path("desk/", include("scheduling.urls")),
    path("patients/<uuid:patient_id>/history/", history_page, name="patient-history"),
    path("patients/", include("patients.urls")),
    path("history/", include("history.urls")),
    path("procedures/", include("procedures.urls")),
    path("portal/", include("portal.urls")),
    path("", include("notifications.urls")),
    path("calendars/providers/<str:token>.ics", provider_feed, name="provider-calendar"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler404 = "clinic.core.views.page_not_found"
handler500 = "clinic.core.views.server_error"

admin.site.site_header = "Clinic administration"
admin.site.site_title = "Clinic administration"
