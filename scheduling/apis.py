"""Scheduling API: the clinic's places and people, availability, and appointments."""

import json

from django.http import Http404
from django.utils.decorators import method_decorator
from django.views.decorators.gzip import gzip_page
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.core.bounds import availability_cap_days
from clinic.core.dbrouter import reading_from_replica
from clinic.core.errors import ValidationFailed
from clinic.core.ratelimit import BookingThrottle
from clinic.users.access import IsClinicStaff
from clinic.users.actor import Actor
from clinic.users.roles import Role
from patients.selectors import patient_for, patients_visible_to
from sites.models import Location, Provider

from . import selectors, services
from .availability import free_slots
from .calendar_views import appointment_file
from .filters import AppointmentFilter, ProviderFilter
from .localtime import to_aware
from .models import Appointment, AppointmentStatus, AppointmentType, WaitlistEntry, WaitlistOffer
from .serializers import (
    AppointmentSerializer,
    AppointmentTypeSerializer,
    AvailabilityQuerySerializer,
    LocationSerializer,
    PatientAppointmentSerializer,
    ProviderSerializer,
    ReasonSerializer,
    RescheduleSerializer,
    SlotSerializer,
    WaitlistEntrySerializer,
    slot_rows,
)
from .services import offer_accept, waitlist_join


class ListApi(ListAPIView):
    """A read-only list anyone signed in may read."""


class LocationListApi(ListApi):
    queryset = Location.objects.filter(is_active=True)
    serializer_class = LocationSerializer


class ProviderListApi(ListApi):
    queryset = Provider.objects.filter(is_active=True).prefetch_related("locations")
    serializer_class = ProviderSerializer
    filterset_class = ProviderFilter


class AppointmentTypeListApi(ListApi):
    queryset = AppointmentType.objects.none()  # for the schema; requests scope their own
    serializer_class = AppointmentTypeSerializer

    def get_queryset(self):
        return selectors.appointment_types_offered_to(self.request.user)


# A month of a busy location is thousands of slots whose ids repeat: gzipped for a client
# that accepts it (about 40 times smaller). Free slots only, nothing secret to leak.
@method_decorator(gzip_page, name="dispatch")
class AvailabilityApi(APIView):
    @extend_schema(
        parameters=[AvailabilityQuerySerializer],
        responses=SlotSerializer(many=True),
        operation_id="availability",
    )
    @reading_from_replica()
    def get(self, request):
        staff = request.user.is_clinic_staff
        query = AvailabilityQuerySerializer(data=request.query_params, context={"staff": staff})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if not request.user.is_clinic_staff and not data["appointment_type"].patient_bookable:
            raise PermissionDenied("This kind of visit is booked by the clinic.")
        slots = free_slots(
            appointment_type=data["appointment_type"],
            start_date=data["start"],
            end_date=data["end"],
            provider=data.get("provider"),
            location=data.get("location"),
            max_days=availability_cap_days(staff=staff),
        )
        return Response(slot_rows(slots))


def appointment_serializer_for(user):
    return AppointmentSerializer if user.is_clinic_staff else PatientAppointmentSerializer


class AppointmentListApi(GenericAPIView):
    queryset = Appointment.objects.none()
    serializer_class = AppointmentSerializer
    throttle_classes = [BookingThrottle]
    filterset_class = AppointmentFilter

    @extend_schema(operation_id="appointments_list", responses=AppointmentSerializer(many=True))
    def get(self, request):
        appointments = self.filter_queryset(selectors.appointments_visible_to(request.user))
        page = self.paginate_queryset(appointments.order_by("start"))
        return self.get_paginated_response(
            appointment_serializer_for(request.user)(page, many=True).data
        )

    @extend_schema(
        operation_id="appointments_book",
        description="Book a visit. Staff book only what `GET /availability/` offers (the "
        "provider and start; the room is the slot's when left out): another time is a 400 "
        "naming `start`, with `alternatives`, the nearest offered slots, unless it is an "
        "overbook (`overbook: true` or an `overbook_reason`) by a role the booking policy "
        "allows (otherwise 403 `overbook_not_allowed`; a blank reason is a 400 on "
        "`overbook_reason`). A taken provider or room is a 409 `slot_taken` and a busy "
        "patient a 409 `patient_busy`, both with `alternatives`; overbooks included.",
        request=AppointmentSerializer,
        responses={
            201: AppointmentSerializer,
            400: OpenApiResponse(description="Field errors (`start` not offered, ...)."),
            403: OpenApiResponse(description="The role may not book this or overbook."),
            409: OpenApiResponse(description="`slot_taken` or `patient_busy`, alternatives."),
        },
    )
    def post(self, request):
        serializer = AppointmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        user = request.user
        if user.has_role(Role.PATIENT):
            data["patient"] = (
                patient_for(user, user.patient.pk) if hasattr(user, "patient") else None
            )
            if data["patient"] is None:
                raise PermissionDenied("Your login is not linked to a patient record yet.")
        elif not user.is_clinic_staff:
            raise PermissionDenied()
        elif data.get("patient") is None:
            raise ValidationFailed({"patient": ["Choose the patient."]})
        data["start"] = to_aware(data["start"], data["location"].zone)
        appointment = services.appointment_book(by=Actor.api(user), **data)
        answer = appointment_serializer_for(user)
        if answer is AppointmentSerializer:  # its fields are built already: answer with it
            serializer.instance = appointment
            return Response(serializer.data, status=status.HTTP_201_CREATED)
        return Response(answer(appointment).data, status=status.HTTP_201_CREATED)


class AppointmentDetailApi(APIView):
    @extend_schema(operation_id="appointments_retrieve", responses=AppointmentSerializer)
    def get(self, request, appointment_id):
        appointment = selectors.appointment_for(request.user, appointment_id)
        return Response(appointment_serializer_for(request.user)(appointment).data)


class AppointmentMoveApi(APIView):
    """One state move; subclasses name it. Patients may only cancel their own."""

    to: str
    patients_may = False
    needs_reason = False

    def post(self, request, appointment_id):
        appointment = selectors.appointment_for(request.user, appointment_id)
        if not request.user.is_clinic_staff and not self.patients_may:
            raise PermissionDenied("The front desk does this.")
        reason = ""
        if self.needs_reason:
            serializer = ReasonSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            reason = serializer.validated_data["reason"]
        moved = services.appointment_move(
            appointment=appointment, to=self.to, by=Actor.api(request.user), reason=reason
        )
        return Response(appointment_serializer_for(request.user)(moved).data)


def move_api(name: str, to: str, **attrs):
    schema = extend_schema(
        operation_id=f"appointments_{to}",
        request=ReasonSerializer if attrs.get("needs_reason") else None,
        responses=AppointmentSerializer,
    )

    @schema
    def post(self, request, appointment_id):
        return AppointmentMoveApi.post(self, request, appointment_id)

    return type(name, (AppointmentMoveApi,), {"to": to, "post": post, **attrs})


CancelApi = move_api("CancelApi", AppointmentStatus.CANCELLED, patients_may=True, needs_reason=True)
CheckInApi = move_api(
    "CheckInApi", AppointmentStatus.CHECKED_IN, permission_classes=[IsClinicStaff]
)
InRoomApi = move_api("InRoomApi", AppointmentStatus.IN_ROOM, permission_classes=[IsClinicStaff])
CompleteApi = move_api(
    "CompleteApi", AppointmentStatus.COMPLETED, permission_classes=[IsClinicStaff]
)
NoShowApi = move_api("NoShowApi", AppointmentStatus.NO_SHOW, permission_classes=[IsClinicStaff])


class UndoApi(APIView):
    """Staff undo a no-show or a cancellation the same local day, while the slot is free."""

    permission_classes = [IsClinicStaff]

    @extend_schema(
        operation_id="appointments_undo",
        request=None,
        responses=AppointmentSerializer,
        description="Undo the visit's no-show or cancellation: its status before comes back, "
        "its procedure order is scheduled again and the reminders still ahead are planned "
        "again. Only on the local day it happened (409 `undo_expired`), not a reschedule's "
        "cancellation (409 `not_undoable`), and only while the provider, room and patient are "
        "still free then (409 `slot_taken` or `patient_busy`).",
    )
    def post(self, request, appointment_id):
        appointment = selectors.appointment_for(request.user, appointment_id)
        undone = services.appointment_undo(appointment=appointment, by=Actor.api(request.user))
        return Response(AppointmentSerializer(undone).data)


class RescheduleApi(APIView):
    @extend_schema(
        operation_id="appointments_reschedule",
        request=RescheduleSerializer,
        responses=AppointmentSerializer,
    )
    def post(self, request, appointment_id):
        appointment = selectors.appointment_for(request.user, appointment_id)
        serializer = RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if not request.user.is_clinic_staff:
            data.pop("provider", None), data.pop("room", None)
        data["start"] = to_aware(data["start"], appointment.location.zone)
        moved = services.appointment_reschedule(
            appointment=appointment, by=Actor.api(request.user), **data
        )
        return Response(appointment_serializer_for(request.user)(moved).data)


class CalendarRenderer(BaseRenderer):
    """Lets a client that accepts only text/calendar through content negotiation."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, str | bytes) else json.dumps(data)


class AppointmentCalendarApi(APIView):
    """The appointment as an .ics file, for the patient's own calendar (or staff)."""

    renderer_classes = [JSONRenderer, CalendarRenderer]

    @extend_schema(
        operation_id="appointments_calendar_file", responses={(200, "text/calendar"): str}
    )
    def get(self, request, appointment_id):
        return appointment_file(selectors.appointment_for(request.user, appointment_id))


class WaitlistApi(GenericAPIView):
    queryset = WaitlistEntry.objects.none()
    serializer_class = WaitlistEntrySerializer

    @extend_schema(operation_id="waitlist_list", responses=WaitlistEntrySerializer(many=True))
    def get(self, request):
        entries = selectors.waitlist_entries_visible_to(request.user)
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(WaitlistEntrySerializer(page, many=True).data)

    @extend_schema(
        operation_id="waitlist_join",
        request=WaitlistEntrySerializer,
        responses={201: WaitlistEntrySerializer},
    )
    def post(self, request):
        serializer = WaitlistEntrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        user = request.user
        if user.has_role(Role.PATIENT):
            data["patient"] = getattr(user, "patient", None)
            if data["patient"] is None or not data["appointment_type"].patient_bookable:
                raise PermissionDenied("Ask the clinic to put you on this waitlist.")
        elif data.get("patient") is None:
            raise ValidationFailed({"patient": ["Choose the patient."]})
        entry = waitlist_join(by=Actor.api(user), **data)
        return Response(WaitlistEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class OfferAcceptApi(APIView):
    @extend_schema(
        operation_id="waitlist_offer_accept", request=None, responses=AppointmentSerializer
    )
    def post(self, request, offer_id):
        offers = WaitlistOffer.objects.select_related("entry")
        if not request.user.is_clinic_staff:
            offers = offers.filter(entry__patient__in=patients_visible_to(request.user))
        offer = offers.filter(pk=offer_id).first()
        if offer is None:
            raise Http404
        appointment = offer_accept(offer=offer, by=Actor.api(request.user))
        return Response(
            appointment_serializer_for(request.user)(appointment).data,
            status=status.HTTP_201_CREATED,
        )
