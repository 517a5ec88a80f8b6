"""The physician's view of a patient: the page, its printable summary, and the same data
as JSON. Clinicians only; every view is recorded in the access log."""

from django.shortcuts import render
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.users.access import HasRole, role_required
from clinic.users.roles import Role
from patients.selectors import patient_for

from .filters import history_filters
from .selectors import KINDS, REGIONS, patient_history
from .serializers import history_as_json


@role_required(Role.CLINICIAN)
def history_page(request, patient_id):
    patient = patient_for(request.user, patient_id)
    filters = history_filters(request.GET, strict=False)
    history = patient_history(patient=patient, **filters)
    flags = history["urgent_flags"]
    context = {
        **history,
        "selected_kinds": filters["kinds"] or [],
        "selected_region": filters["region"],
        # The same banner as the chart's (patients/_urgent_banner.html); clinicians only here.
        "urgent": {
            "open": bool(flags),
            "flags": flags,
            "since": flags[0].raised_at if flags else None,
            "can_acknowledge": True,
        },
        "urgent_back": "history",
    }
    return render(request, "history/history.html", context)


class ClinicianOnly(HasRole):
    roles = (Role.CLINICIAN,)


class HistoryApi(APIView):
    permission_classes = [ClinicianOnly]

    @extend_schema(
        operation_id="patients_history",
        parameters=[
            OpenApiParameter("kind", str, many=True, enum=list(KINDS)),
            OpenApiParameter("region", str, enum=list(REGIONS)),
        ],
        responses={200: dict},
    )
    def get(self, request, patient_id):
        patient = patient_for(request.user, patient_id)
        filters = history_filters(request.query_params, strict=True)
        history = patient_history(patient=patient, **filters)
        return Response(history_as_json(history))
