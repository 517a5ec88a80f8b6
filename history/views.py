"""The physician's view of a patient: the page, its printable summary, and the same data
as JSON. Clinicians only; every view is recorded in the access log."""

from decimal import ROUND_HALF_UP, Decimal

from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.core.dbrouter import reading_from_replica
from clinic.users.access import HasRole, role_required
from clinic.users.roles import Role
from patients.selectors import patient_for

from .filters import history_filters
from .next_steps import with_next_steps
from .selectors import KINDS, REGIONS, patient_history
from .serializers import history_as_json


def _timeline_rows(events: list[dict]) -> list[dict]:
    """The events with their times as the timeline prints them, formatted once here: the
    template's date filter, called per event, was most of a long history's rendering. The
    time is shown in the current time zone, as the date filter showed it."""
    return [
        {
            **event,
            "iso": event["at"].isoformat(),
            "when": timezone.localtime(event["at"]).strftime("%Y-%m-%d %H:%M"),
        }
        for event in events
    ]


def _whole(value: Decimal | None) -> str | None:
    """`value|floatformat:0` (half up, no "-0"), done once here: the filter, called for each
    follow-up, was a third of the page's rendering."""
    if value is None:
        return None
    return str(int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _relief_rows(rows: list[dict]) -> list[dict]:
    """The relief table's rows with their day and percentages as the page prints them (the
    day in the current time zone, as the date filter printed it)."""
    return [
        {
            **row,
            "day": timezone.localtime(row["record"].performed_at).strftime("%Y-%m-%d"),
            "best_shown": _whole(row["best"]),
            "follow_ups": [
                {**follow_up, "relief_shown": _whole(follow_up["percent_relief"])}
                for follow_up in row["follow_ups"]
            ],
        }
        for row in rows
    ]


@role_required(Role.CLINICIAN)
@reading_from_replica()
def history_page(request, patient_id):
    patient = patient_for(request.user, patient_id)
    filters = history_filters(request.GET, strict=False)
    history = patient_history(patient=patient, **filters)
    flags = history["urgent_flags"]
    context = {
        **history,
        "events": _timeline_rows(history["events"]),
        "pathway": with_next_steps(patient.pk, history["pathway"]),
        "relief": _relief_rows(history["relief"]),
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
    @reading_from_replica()
    def get(self, request, patient_id):
        patient = patient_for(request.user, patient_id)
        filters = history_filters(request.query_params, strict=True)
        history = patient_history(patient=patient, **filters)
        return Response(history_as_json(history))
