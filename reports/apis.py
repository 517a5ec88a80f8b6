"""The reports in the API: `/api/v1/reports/` lists those the caller may read;
`/api/v1/reports/<name>/` answers one as JSON, or as CSV with `?format=csv`."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from clinic.audit.reads import note_figures_read
from clinic.core.dbrouter import reading_from_replica
from clinic.core.errors import ValidationFailed

from .access import ReadsReports, readable_reports
from .forms import ReportFilterForm
from .presenting import result_csv, result_json
from .views import report_named


class ReportCsvRenderer(BaseRenderer):
    """The report's tables as one CSV (see presenting.result_csv for the layout)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        return str(data).encode(self.charset)


FILTER_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (default: 28 days ago)"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, inclusive (default: today)"),
    OpenApiParameter("location", OpenApiTypes.UUID),
    OpenApiParameter("provider", OpenApiTypes.UUID),
    OpenApiParameter("procedure_type", OpenApiTypes.UUID),
    OpenApiParameter("format", str, enum=["json", "csv"]),
]


class ReportListApi(APIView):
    permission_classes = [ReadsReports]

    @extend_schema(operation_id="reports_list", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        reports = [
            {
                "name": report.name,
                "title": report.title,
                "description": report.description,
                "audience": report.audience.value,
                "url": reverse("api-report", args=[report.name], request=request),
            }
            for report in readable_reports(request.user)
        ]
        return Response({"results": reports})


class ReportApi(APIView):
    permission_classes = [ReadsReports]
    renderer_classes = [JSONRenderer, ReportCsvRenderer]

    @extend_schema(
        operation_id="reports_read",
        parameters=FILTER_PARAMETERS,
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): str},
    )
    @reading_from_replica()
    def get(self, request: Request, name: str) -> Response:
        report = report_named(request, name)
        form = ReportFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationFailed({field: list(errors) for field, errors in form.errors.items()})
        filters = form.filters()
        result = report.build(filters)
        note_figures_read()
        # When the figures are as of (the summaries' refresh, or now when read live), for the
        # CSV too: the JSON also has it as `fresh_as_of`.
        headers = {"Figures-As-Of": result.fresh_as_of.isoformat()} if result.fresh_as_of else {}
        if request.accepted_renderer.format == "csv":
            disposition = f'attachment; filename="{report.name}-{filters.start}-{filters.end}.csv"'
            headers["Content-Disposition"] = disposition
            return Response(result_csv(report, result), headers=headers)
        return Response(result_json(report, filters, result), headers=headers)

    def handle_exception(self, exc: Exception) -> Response:
        """Errors are answered as JSON, whatever format was asked for."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response
