from datetime import datetime

from django.utils import timezone
from rest_framework import serializers

from clinic.core.bounds import availability_window_errors
from clinic.core.preload import (
    PreloadedPrimaryKeyRelatedField,
    PreloadedSlugRelatedField,
    PreloadingSerializer,
)
from sites.models import Location, Provider, Room

from .availability import Slot
from .models import Appointment, AppointmentType, WaitlistEntry


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = (
            "id",
            "code",
            "name",
            "time_zone",
            "address_line",
            "city",
            "state",
            "postal_code",
            "phone",
        )
        read_only_fields = fields


class ProviderSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Provider
        fields = (
            "id",
            "display_name",
            "first_name",
            "last_name",
            "credentials",
            "kind",
            "locations",
        )
        read_only_fields = fields


class AppointmentTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppointmentType
        fields = (
            "id",
            "code",
            "name",
            "kind",
            "duration_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "room_kind",
            "patient_bookable",
            "min_notice_hours",
            "max_horizon_days",
            "slot_step_minutes",
            "color",
        )
        read_only_fields = fields


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    provider = serializers.UUIDField(source="provider.pk")
    room = serializers.UUIDField(source="room.pk", allow_null=True)
    location = serializers.UUIDField(source="location.pk")


def slot_rows(slots: list[Slot]) -> list[dict[str, str | None]]:
    """SlotSerializer's fields as plain strings, without a serializer per slot (a month of a
    busy location is ten thousand slots): instants in UTC ("2030-01-07T14:00:00Z") and ids.
    Each is turned into text once: the slots share their moments and their provider, room
    and location objects (keyed by identity: a UUID hashes in Python, slowly)."""
    texts: dict[int, str | None] = {id(None): None}
    moments: dict[datetime, str] = {}
    rows = []
    for slot in slots:
        start, end = moments.get(slot.start), moments.get(slot.end)
        if start is None:
            start = moments[slot.start] = slot.start.isoformat().replace("+00:00", "Z")
        if end is None:
            end = moments[slot.end] = slot.end.isoformat().replace("+00:00", "Z")
        for thing in (slot.provider, slot.room, slot.location):
            if id(thing) not in texts and thing is not None:
                texts[id(thing)] = str(thing.pk)
        rows.append(
            {
                "start": start,
                "end": end,
                "provider": texts[id(slot.provider)],
                "room": texts[id(slot.room)],
                "location": texts[id(slot.location)],
            }
        )
    return rows


class AvailabilityQuerySerializer(serializers.Serializer):
    appointment_type = serializers.SlugRelatedField(
        slug_field="code", queryset=AppointmentType.objects.filter(is_active=True)
    )
    start = serializers.DateField(help_text="First local date.")
    end = serializers.DateField(
        help_text="Last local date: the window is at most 31 days for patients, 62 for staff "
        "(AVAILABILITY_MAX_DAYS_*), a 400 naming the cap beyond."
    )
    provider = serializers.PrimaryKeyRelatedField(
        queryset=Provider.objects.filter(is_active=True), required=False
    )
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.filter(is_active=True), required=False
    )

    def validate(self, data):
        if data["end"] < data["start"]:
            raise serializers.ValidationError({"end": "The end date is before the start date."})
        staff = bool(self.context.get("staff"))
        errors = availability_window_errors(data["start"], data["end"], staff=staff)
        if errors:
            raise serializers.ValidationError(errors)
        return data


class WallClockDateTimeField(serializers.DateTimeField):
    """Keeps a time given without an offset naive, so the service reads it in the location's
    zone (and can refuse a time the spring-forward gap skips)."""

    def enforce_timezone(self, value):
        return value if timezone.is_naive(value) else super().enforce_timezone(value)


def _is_active(appointment_type: AppointmentType) -> bool:
    return appointment_type.is_active


class AppointmentSerializer(PreloadingSerializer, serializers.ModelSerializer):
    """A booking's patient, type, provider, location, room and order are read in one
    statement before validation (clinic/core/preload.py), not in a query each."""

    serializer_related_field = PreloadedPrimaryKeyRelatedField
    appointment_type = PreloadedSlugRelatedField(
        slug_field="code",
        queryset=AppointmentType.objects.filter(is_active=True),
        preload_if=_is_active,
    )
    start = WallClockDateTimeField(
        help_text="ISO 8601; without an offset it is read in the location's time zone. Staff "
        "book a start that availability offers for the provider (400 naming `start` and the "
        "nearest offered times otherwise) unless it is an overbook."
    )
    idempotency_key = serializers.CharField(
        required=False, allow_blank=True, max_length=80, write_only=True
    )
    overbook = serializers.BooleanField(
        required=False,
        default=False,
        write_only=True,
        help_text="Book on purpose at a time availability does not offer (outside the "
        "provider's hours or on top of another of their visits); needs `overbook_reason` "
        "and a role the booking policy allows. Rooms and patients still never overlap (409).",
    )
    overbook_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,
        help_text="Why this visit is overbooked; given (not blank) it asks for an overbook.",
    )

    class Meta:
        model = Appointment
        fields = (
            "id",
            "patient",
            "appointment_type",
            "provider",
            "location",
            "room",
            "procedure_order",
            "start",
            "end",
            "status",
            "cancel_reason",
            "idempotency_key",
            "overbook",
            "overbooked",
            "overbook_reason",
            "created_at",
        )
        read_only_fields = ("id", "end", "status", "cancel_reason", "overbooked", "created_at")
        extra_kwargs = {
            "patient": {"required": False},
            "room": {
                "required": False,
                "help_text": "For staff: the room of the offered slot; left out, the one "
                "availability chose.",
            },
        }

    def validate(self, data):
        """`overbook_reason` for the service: None when no overbook is asked for."""
        asked = data.pop("overbook", False)
        reason = data.pop("overbook_reason", "")
        data["overbook_reason"] = reason if asked or reason.strip() else None
        return data


class PatientAppointmentSerializer(serializers.ModelSerializer):
    """A patient's own view: when, where, with whom, what kind; never clinical detail."""

    appointment_type = serializers.CharField(source="appointment_type.name", read_only=True)
    provider = serializers.CharField(source="provider.display_name", read_only=True)
    location = serializers.CharField(source="location.name", read_only=True)

    class Meta:
        model = Appointment
        fields = ("id", "appointment_type", "provider", "location", "start", "end", "status")
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class RescheduleSerializer(serializers.Serializer):
    start = WallClockDateTimeField(help_text="Without an offset: the location's time zone.")
    provider = serializers.PrimaryKeyRelatedField(
        queryset=Provider.objects.filter(is_active=True), required=False
    )
    room = serializers.PrimaryKeyRelatedField(
        queryset=Room.objects.filter(is_active=True), required=False
    )


class WaitlistEntrySerializer(serializers.ModelSerializer):
    appointment_type = serializers.SlugRelatedField(
        slug_field="code", queryset=AppointmentType.objects.filter(is_active=True)
    )
    offers = serializers.SerializerMethodField()

    class Meta:
        model = WaitlistEntry
        fields = (
            "id",
            "patient",
            "appointment_type",
            "provider",
            "location",
            "earliest",
            "latest",
            "status",
            "offers",
            "created_at",
        )
        read_only_fields = ("id", "status", "offers", "created_at")
        extra_kwargs = {"patient": {"required": False}}

    def get_offers(self, entry) -> list[dict]:
        return [
            {
                "id": str(o.id),
                "start": o.start.isoformat(),
                "expires_at": o.expires_at.isoformat(),
                "status": o.status,
            }
            for o in entry.offers.all()
        ]
