"""Procedures API: catalog, orders (with their state moves), records, outcomes, safety check."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from clinic.users.access import IsClinician, IsClinicStaff
from clinic.users.actor import Actor
from clinic.users.models import User
from clinic.users.roles import CLINICAL_ROLES
from patients.selectors import clinical_patient_for, patient_for

from . import selectors, services
from .filters import OrderFilter, RecordFilter
from .models import ProcedureOrder, ProcedureRecord, ProcedureType
from .safety import DISCLAIMER, safety_check
from .serializers import (
    AuthorizationSerializer,
    CancelSerializer,
    DeskOrderSerializer,
    OrderSerializer,
    OutcomeSerializer,
    OverrideRequestSerializer,
    PatientOrderSerializer,
    ProcedureTypeSerializer,
    RecordSerializer,
    SafetyCheckRequestSerializer,
    SafetyCheckResponseSerializer,
)


def order_serializer_for(user):
    if user.has_role(*CLINICAL_ROLES):
        return OrderSerializer
    if user.is_clinic_staff:
        return DeskOrderSerializer
    return PatientOrderSerializer


class ProcedureTypeListApi(GenericAPIView):
    permission_classes = [IsClinicStaff]
    queryset = ProcedureType.objects.filter(is_active=True)
    serializer_class = ProcedureTypeSerializer

    @extend_schema(
        operation_id="procedure_types_list", responses=ProcedureTypeSerializer(many=True)
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.procedure_types_active())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ProcedureTypeDetailApi(APIView):
    permission_classes = [IsClinicStaff]

    @extend_schema(operation_id="procedure_types_retrieve", responses=ProcedureTypeSerializer)
    def get(self, request, code):
        procedure_type = (
            ProcedureType.objects.prefetch_related("procedure_codes").filter(code=code).first()
        )
        if procedure_type is None:
            raise selectors.Http404
        return Response(ProcedureTypeSerializer(procedure_type).data)


class OrderListApi(GenericAPIView):
    queryset = ProcedureOrder.objects.none()
    serializer_class = OrderSerializer
    filterset_class = OrderFilter

    @extend_schema(
        operation_id="procedure_orders_list",
        responses=OrderSerializer(many=True),
        summary="Orders: staff see all (the front desk without clinical notes); a patient their scheduled ones",
    )
    def get(self, request):
        orders = self.filter_queryset(selectors.orders_visible_to(request.user))
        page = self.paginate_queryset(orders)
        serializer = order_serializer_for(request.user)
        return self.get_paginated_response(serializer(page, many=True).data)

    @extend_schema(
        operation_id="procedure_orders_create",
        request=OrderSerializer,
        responses={201: OrderSerializer},
    )
    def post(self, request):
        if not request.user.has_role(*CLINICAL_ROLES):
            raise PermissionDenied("Only a clinician may order a procedure.")
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        patient = clinical_patient_for(request.user, data.pop("patient").pk)
        order = services.order_create(patient=patient, by=Actor.api(request.user), **data)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetailApi(APIView):
    @extend_schema(operation_id="procedure_orders_retrieve", responses=OrderSerializer)
    def get(self, request, order_id):
        order = selectors.order_for(request.user, order_id)
        return Response(order_serializer_for(request.user)(order).data)


class OrderActionApi(APIView):
    """Base for the state moves: staff only; each subclass calls one service."""

    permission_classes = [IsClinicStaff]
    request_serializer: type[Serializer] | None = None

    def act(self, order: ProcedureOrder, user: User, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request, order_id):
        order = selectors.order_for(request.user, order_id)
        data: dict[str, Any] = {}
        if self.request_serializer is not None:
            serializer = self.request_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.act(order, request.user, data)
        order = selectors.order_for(request.user, order_id)
        return Response(order_serializer_for(request.user)(order).data)


class OrderAuthorizationApi(OrderActionApi):
    request_serializer = AuthorizationSerializer

    @extend_schema(
        operation_id="procedure_orders_set_authorization",
        request=AuthorizationSerializer,
        responses=OrderSerializer,
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def act(self, order, user, data):
        services.order_set_authorization(order=order, by=Actor.api(user), **data)


class OrderRequestAuthorizationApi(OrderActionApi):
    @extend_schema(
        operation_id="procedure_orders_request_authorization",
        request=None,
        responses=OrderSerializer,
        summary="Record that prior authorization was requested from the payer (who and when); "
        "409 when it is not pending, denied or approved",
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def act(self, order, user, data):
        services.order_request_authorization(order=order, by=Actor.api(user))


class OrderAuthorizeApi(OrderActionApi):
    @extend_schema(
        operation_id="procedure_orders_authorize", request=None, responses=OrderSerializer
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def act(self, order, user, data):
        services.order_authorize(order=order, by=Actor.api(user))


class OrderCancelApi(OrderActionApi):
    request_serializer = CancelSerializer

    @extend_schema(
        operation_id="procedure_orders_cancel", request=CancelSerializer, responses=OrderSerializer
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def act(self, order, user, data):
        services.order_cancel(order=order, by=Actor.api(user), **data)


class OrderOverrideApi(OrderActionApi):
    permission_classes = [IsClinician]
    request_serializer = OverrideRequestSerializer

    @extend_schema(
        operation_id="procedure_orders_override",
        request=OverrideRequestSerializer,
        responses=OrderSerializer,
    )
    def post(self, request, order_id):
        return super().post(request, order_id)

    def act(self, order, user, data):
        services.order_override(order=order, by=Actor.api(user), **data)


class OrderCheckApi(OrderActionApi):
    permission_classes = [IsClinician]

    @extend_schema(operation_id="procedure_orders_check", request=None, responses=OrderSerializer)
    def post(self, request, order_id):
        return super().post(request, order_id)

    def act(self, order, user, data):
        services.order_recheck(order=order, by=Actor.api(user))


class SafetyCheckApi(APIView):
    permission_classes = [IsClinician]

    @extend_schema(
        operation_id="safety_check",
        request=SafetyCheckRequestSerializer,
        responses=SafetyCheckResponseSerializer,
    )
    def post(self, request):
        serializer = SafetyCheckRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        patient = patient_for(request.user, data.pop("patient"))
        findings = safety_check(patient=patient, **data)
        return Response({"findings": [f.as_dict() for f in findings], "disclaimer": DISCLAIMER})


class RecordListApi(GenericAPIView):
    permission_classes = [IsClinician]
    queryset = ProcedureRecord.objects.none()
    serializer_class = RecordSerializer
    filterset_class = RecordFilter

    @extend_schema(
        operation_id="procedure_records_list",
        responses=RecordSerializer(many=True),
    )
    def get(self, request):
        records = self.filter_queryset(selectors.records_visible_to(request.user))
        page = self.paginate_queryset(records)
        return self.get_paginated_response(RecordSerializer(page, many=True).data)

    @extend_schema(
        operation_id="procedure_records_create",
        request=RecordSerializer,
        responses={201: RecordSerializer},
    )
    def post(self, request):
        serializer = RecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("order") is not None:
            data["order"] = selectors.order_for(request.user, data["order"].pk)
            data.pop("patient", None), data.pop("procedure_type", None)
        elif data.get("patient") is not None:
            data["patient"] = clinical_patient_for(request.user, data["patient"].pk)
        record = services.record_create(by=Actor.api(request.user), **data)
        return Response(
            RecordSerializer(selectors.record_for(request.user, record.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class RecordDetailApi(APIView):
    permission_classes = [IsClinician]

    @extend_schema(operation_id="procedure_records_retrieve", responses=RecordSerializer)
    def get(self, request, record_id):
        return Response(RecordSerializer(selectors.record_for(request.user, record_id)).data)


class OutcomeApi(APIView):
    permission_classes = [IsClinician]

    @extend_schema(
        operation_id="procedure_outcomes_create",
        request=OutcomeSerializer,
        responses={201: OutcomeSerializer},
    )
    def post(self, request, record_id):
        record = selectors.record_for(request.user, record_id)
        serializer = OutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = services.outcome_record(
            record=record, by=Actor.api(request.user), **serializer.validated_data
        )
        return Response(OutcomeSerializer(outcome).data, status=status.HTTP_201_CREATED)
