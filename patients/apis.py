"""Patients API. Each view: check the role, scope the queryset, call a service, serialize."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.users.access import IsClinicStaff
from clinic.users.actor import Actor
from clinic.users.roles import CLINICAL_ROLES, Role

from . import selectors, services
from .filters import AssessmentFilter, LabResultFilter, PatientFilter
from .models import (
    Assessment,
    DuplicateCandidate,
    EntrySource,
    IntakeItemKind,
    IntakeSubmission,
    LabResult,
    Patient,
)
from .serializers import (
    AllergySerializer,
    AssessmentSerializer,
    ConditionSerializer,
    DeviceSerializer,
    DuplicateSerializer,
    IntakeDecisionSerializer,
    IntakeQueueSerializer,
    IntakeSerializer,
    IntakeSubmitSerializer,
    LabResultSerializer,
    MedicationSerializer,
    MergeSerializer,
    PatientSearchSerializer,
    PatientSerializer,
)


def require_role(user, *roles) -> None:
    if not user.has_role(*roles):
        raise PermissionDenied("Your role may not do this.")


class PatientListApi(GenericAPIView):
    queryset = Patient.objects.none()  # for the schema; requests scope their own
    serializer_class = PatientSerializer
    filterset_class = PatientFilter

    @extend_schema(
        summary="List patients (staff: all, with search; a patient: their own record)",
        operation_id="patients_list",
        responses=PatientSerializer(many=True),
    )
    def get(self, request):
        patients = self.filter_queryset(selectors.patients_listed_for(request.user))
        page = self.paginate_queryset(patients)
        return self.get_paginated_response(PatientSerializer(page, many=True).data)

    @extend_schema(
        request=PatientSerializer, responses={201: PatientSerializer}, summary="Create a patient"
    )
    def post(self, request):
        require_role(request.user, Role.FRONT_DESK, *CLINICAL_ROLES)
        serializer = PatientSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_create(by=Actor.api(request.user), **serializer.validated_data)
        return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)


class PatientSearchApi(GenericAPIView):
    """The staff search with its terms in the body: a URL's query string reaches access logs
    and browser history, and a name, a birth date or a phone number must reach neither."""

    queryset = Patient.objects.none()
    serializer_class = PatientSerializer
    permission_classes = [IsClinicStaff]

    @extend_schema(
        request=PatientSearchSerializer,
        responses=PatientSerializer(many=True),
        summary="Search patients by name, MRN, date of birth or phone (terms in the body)",
        operation_id="patients_search",
    )
    def post(self, request):
        terms = PatientSearchSerializer(data=request.data)
        terms.is_valid(raise_exception=True)
        found = selectors.patients_matching(
            selectors.patients_listed_for(request.user), query=terms.validated_data["search"]
        )
        page = self.paginate_queryset(found)
        return self.get_paginated_response(PatientSerializer(page, many=True).data)


class PatientDetailApi(APIView):
    @extend_schema(
        responses=PatientSerializer, summary="A patient's record", operation_id="patients_retrieve"
    )
    def get(self, request, patient_id):
        return Response(PatientSerializer(selectors.patient_for(request.user, patient_id)).data)

    @extend_schema(
        request=PatientSerializer, responses=PatientSerializer, summary="Update demographics"
    )
    def patch(self, request, patient_id):
        patient = selectors.patient_for(request.user, patient_id)
        require_role(request.user, Role.FRONT_DESK, *CLINICAL_ROLES)
        serializer = PatientSerializer(patient, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_update(patient=patient, **serializer.validated_data)
        return Response(PatientSerializer(patient).data)


class ClinicalChartApi(GenericAPIView):
    """A patient's allergies, medications, conditions or devices (one subclass each)."""

    chart_list: str
    related_name: str

    def entries(self):
        return getattr(self.patient, self.related_name).select_related("recorded_by")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.patient = selectors.clinical_patient_for(request.user, kwargs["patient_id"])


class ClinicalListApi(ClinicalChartApi):
    def get(self, request, patient_id):
        page = self.paginate_queryset(self.entries())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def post(self, request, patient_id):
        require_role(request.user, *CLINICAL_ROLES)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.clinical_entry_add(
            patient=self.patient,
            chart_list=self.chart_list,
            by=Actor.api(request.user),
            **serializer.validated_data,
        )
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)


class ClinicalDetailApi(ClinicalChartApi):
    def get_entry(self, entry_id):
        return get_object_or_404(self.entries(), pk=entry_id)

    def get(self, request, patient_id, entry_id):
        return Response(self.get_serializer(self.get_entry(entry_id)).data)

    def patch(self, request, patient_id, entry_id):
        require_role(request.user, *CLINICAL_ROLES)
        entry = self.get_entry(entry_id)
        serializer = self.get_serializer(entry, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        entry = services.clinical_entry_update(entry=entry, **serializer.validated_data)
        return Response(self.get_serializer(entry).data)


def clinical_views(chart_list: str, related_name: str, serializer):
    attrs = {
        "chart_list": chart_list,
        "related_name": related_name,
        "serializer_class": serializer,
        "queryset": serializer.Meta.model.objects.none(),  # for the schema
    }
    name, op = related_name.title(), f"patients_{related_name}"
    list_api = extend_schema_view(
        get=extend_schema(operation_id=f"{op}_list", responses=serializer(many=True)),
        post=extend_schema(operation_id=f"{op}_create"),
    )(type(f"{name}ListApi", (ClinicalListApi,), attrs))
    detail_api = extend_schema_view(
        get=extend_schema(operation_id=f"{op}_retrieve"),
        patch=extend_schema(operation_id=f"{op}_update"),
    )(type(f"{name}DetailApi", (ClinicalDetailApi,), attrs))
    return list_api, detail_api


AllergyListApi, AllergyDetailApi = clinical_views(
    IntakeItemKind.ALLERGY, "allergies", AllergySerializer
)
MedicationListApi, MedicationDetailApi = clinical_views(
    IntakeItemKind.MEDICATION, "medications", MedicationSerializer
)
ConditionListApi, ConditionDetailApi = clinical_views(
    IntakeItemKind.CONDITION, "conditions", ConditionSerializer
)
DeviceListApi, DeviceDetailApi = clinical_views(IntakeItemKind.DEVICE, "devices", DeviceSerializer)


class LabResultListApi(GenericAPIView):
    """A patient's labs (INR, platelets, kidney function), newest first; each read and
    write of them is recorded in the chart access log."""

    queryset = LabResult.objects.none()
    serializer_class = LabResultSerializer
    filterset_class = LabResultFilter

    @extend_schema(
        summary="A patient's lab results, newest first",
        operation_id="patients_labs_list",
        responses=LabResultSerializer(many=True),
    )
    def get(self, request, patient_id):
        patient = selectors.clinical_patient_for(request.user, patient_id)
        labs = self.filter_queryset(patient.labs.select_related("recorded_by"))
        page = self.paginate_queryset(labs)
        return self.get_paginated_response(LabResultSerializer(page, many=True).data)

    @extend_schema(summary="Record a lab result", operation_id="patients_labs_create")
    def post(self, request, patient_id):
        require_role(request.user, *CLINICAL_ROLES)
        patient = selectors.clinical_patient_for(request.user, patient_id)
        serializer = LabResultSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lab = services.lab_record(
            patient=patient, by=Actor.api(request.user), **serializer.validated_data
        )
        return Response(LabResultSerializer(lab).data, status=status.HTTP_201_CREATED)


class AssessmentListApi(GenericAPIView):
    queryset = Assessment.objects.none()
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter

    @extend_schema(
        summary="A patient's assessments, newest first",
        responses=AssessmentSerializer(many=True),
    )
    def get(self, request, patient_id):
        patient = selectors.clinical_patient_for(request.user, patient_id)
        assessments = self.filter_queryset(patient.assessments.select_related("recorded_by"))
        page = self.paginate_queryset(assessments)
        return self.get_paginated_response(AssessmentSerializer(page, many=True).data)

    @extend_schema(summary="Record an assessment (a patient may record their own)")
    def post(self, request, patient_id):
        patient = selectors.clinical_patient_for(request.user, patient_id)
        serializer = AssessmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        by_patient = request.user.has_role(Role.PATIENT)
        assessment = services.assessment_record(
            patient=patient,
            by=Actor.api(request.user),
            source=EntrySource.PATIENT if by_patient else EntrySource.STAFF,
            **serializer.validated_data,
        )
        return Response(AssessmentSerializer(assessment).data, status=status.HTTP_201_CREATED)


def intakes_data(intakes, user) -> list[dict]:
    """The intakes as `user` may see them, through one serializer for them all: a serializer
    per intake built its fields again for each, most of a page's time."""
    rows: list[dict] = list(IntakeSerializer(intakes, many=True).data)
    if not user.has_role(*CLINICAL_ROLES, Role.PATIENT):
        for data in rows:
            data["answers"] = None  # the front desk reviews demographics only
    return rows


def intake_data(intake, user) -> dict:
    return intakes_data([intake], user)[0]


class PatientIntakeListApi(GenericAPIView):
    queryset = IntakeSubmission.objects.none()
    serializer_class = IntakeSerializer

    @extend_schema(summary="A patient's intake submissions")
    def get(self, request, patient_id):
        patient = selectors.patient_for(request.user, patient_id)
        intakes = selectors.intakes_visible_to(request.user).filter(patient=patient)
        page = self.paginate_queryset(intakes.order_by("-submitted_at"))
        assert page is not None  # settings name a default paginator
        return self.get_paginated_response(intakes_data(page, request.user))

    @extend_schema(
        request=IntakeSubmitSerializer,
        responses={201: IntakeSerializer},
        summary="Submit an intake",
    )
    def post(self, request, patient_id):
        patient = selectors.patient_for(request.user, patient_id)
        serializer = IntakeSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        intake = services.intake_submit(
            patient=patient, by=Actor.api(request.user), **serializer.validated_data
        )
        intake = selectors.intake_for(request.user, intake.pk)
        return Response(intake_data(intake, request.user), status=status.HTTP_201_CREATED)


class IntakeQueueApi(GenericAPIView):
    permission_classes = [IsClinicStaff]
    queryset = IntakeSubmission.objects.none()
    serializer_class = IntakeQueueSerializer

    @extend_schema(
        summary="Intakes waiting for review, urgent first",
        operation_id="intakes_queue",
        responses=IntakeQueueSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.intake_queue(user=request.user))
        return self.get_paginated_response(IntakeQueueSerializer(page, many=True).data)


class IntakeDetailApi(APIView):
    @extend_schema(
        responses=IntakeSerializer,
        summary="An intake with its items",
        operation_id="intakes_retrieve",
    )
    def get(self, request, intake_id):
        return Response(intake_data(selectors.intake_for(request.user, intake_id), request.user))


class IntakeDecisionApi(APIView):
    permission_classes = [IsClinicStaff]

    @extend_schema(
        request=IntakeDecisionSerializer,
        responses=IntakeSerializer,
        summary="Accept or reject one item",
    )
    def post(self, request, intake_id, item_id):
        intake = selectors.intake_for(request.user, intake_id)
        item = next((i for i in intake.items.all() if str(i.pk) == str(item_id)), None)
        if item is None:
            raise selectors.Http404
        serializer = IntakeDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.intake_item_decide(
            item=item, by=Actor.api(request.user), **serializer.validated_data
        )
        return Response(intake_data(selectors.intake_for(request.user, intake_id), request.user))


class IntakeReviewedApi(APIView):
    permission_classes = [IsClinicStaff]

    @extend_schema(request=None, responses=IntakeSerializer, summary="Mark an intake reviewed")
    def post(self, request, intake_id):
        intake = selectors.intake_for(request.user, intake_id)
        services.intake_mark_reviewed(submission=intake, by=Actor.api(request.user))
        return Response(intake_data(selectors.intake_for(request.user, intake_id), request.user))


class DuplicateListApi(GenericAPIView):
    permission_classes = [IsClinicStaff]
    queryset = DuplicateCandidate.objects.none()
    serializer_class = DuplicateSerializer

    @extend_schema(summary="Likely duplicate records waiting for a decision")
    def get(self, request):
        page = self.paginate_queryset(selectors.duplicates_open())
        return self.get_paginated_response(DuplicateSerializer(page, many=True).data)


class DuplicateMergeApi(APIView):
    permission_classes = [IsClinicStaff]

    @extend_schema(request=MergeSerializer, responses=PatientSerializer, summary="Merge the pair")
    def post(self, request, duplicate_id):
        candidate = selectors.duplicate_for(duplicate_id)
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        merge = services.duplicate_merge(
            candidate=candidate,
            survivor_id=serializer.validated_data["survivor"],
            by=Actor.api(request.user),
        )
        return Response(PatientSerializer(merge.survivor).data)


class DuplicateDismissApi(APIView):
    permission_classes = [IsClinicStaff]

    @extend_schema(request=None, responses=DuplicateSerializer, summary="Not the same person")
    def post(self, request, duplicate_id):
        candidate = selectors.duplicate_for(duplicate_id)
        candidate = services.duplicate_dismiss(candidate=candidate, by=Actor.api(request.user))
        return Response(DuplicateSerializer(candidate).data)
