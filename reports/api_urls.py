from django.urls import path

from .apis import ReportApi, ReportListApi

urlpatterns = [
    path("reports/", ReportListApi.as_view(), name="api-reports"),
    path("reports/<slug:name>/", ReportApi.as_view(), name="api-report"),
]
