from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from clinic.core.admin import ServiceOnlyAdmin, service_action
from clinic.users.access import signed_in_user
from clinic.users.actor import Actor

from .localtime import to_aware
from .models import (
    STAFF_ROLE_CHOICES,
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    BookingPolicy,
    ScheduleException,
    WaitlistEntry,
    WaitlistOffer,
    WorkingHours,
)
from .services import appointment_move, appointment_reschedule


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "name_es",
        "code",
        "kind",
        "duration_minutes",
        "patient_bookable",
        "is_active",
    )
    list_filter = ("kind", "patient_bookable", "is_active")
    search_fields = ("name", "name_es", "code")


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300, help_text="Kept with the visit; the patient is told it is cancelled."
    )


class MoveForm(forms.Form):
    start = forms.DateTimeField(
        label="New start",
        help_text="Wall-clock time at the visit's location, e.g. 2026-12-14 09:30.",
    )


class StatusChangeInline(admin.TabularInline):
    """The visit's moves, read-only: the services write them."""

    model = AppointmentStatusChange
    fields = ("at", "from_status", "to_status", "by", "channel", "reason", "undo")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("scheduling.view_appointment")


@admin.register(Appointment)
class AppointmentAdmin(ServiceOnlyAdmin):
    """Read-only: cancelling and moving go through the scheduling services, so the patient
    is told, the waitlist is offered the freed slot and the overlap rules answer."""

    list_display = (
        "start",
        "appointment_type",
        "provider",
        "room",
        "location",
        "status",
        "overbooked",
        "overbook_reason",
        "booked_by",
    )
    list_filter = ("status", "location", "appointment_type", "overbooked")
    raw_id_fields = ("patient", "procedure_order")
    list_select_related = (
        "appointment_type",
        "provider",
        "room",
        "location",
        "patient",
        "booked_by",
    )
    date_hierarchy = "start"
    actions = ["cancel_with_reason", "move_to_new_time"]
    inlines = [StatusChangeInline]

    @admin.action(
        description="Cancel the selected visits (asks for the reason)", permissions=["act"]
    )
    def cancel_with_reason(
        self, request: HttpRequest, queryset: QuerySet[Appointment]
    ) -> HttpResponse | None:
        def cancel(appointment: Appointment, data: dict[str, Any]) -> Appointment:
            return appointment_move(
                appointment=appointment,
                to=AppointmentStatus.CANCELLED,
                by=Actor.admin(signed_in_user(request)),
                reason=data["reason"],
            )

        return service_action(
            self,
            request,
            queryset,
            form_class=CancelForm,
            title="Cancel the visits",
            perform=cancel,
            done="visit(s) cancelled",
        )

    @admin.action(description="Move the selected visit to a new time", permissions=["act"])
    def move_to_new_time(
        self, request: HttpRequest, queryset: QuerySet[Appointment]
    ) -> HttpResponse | None:
        def move(appointment: Appointment, data: dict[str, Any]) -> Appointment:
            start: datetime = data["start"].replace(tzinfo=None)
            return appointment_reschedule(
                appointment=appointment,
                start=to_aware(start, appointment.location.zone),
                by=Actor.admin(signed_in_user(request)),
            )

        return service_action(
            self,
            request,
            queryset.select_related("location"),
            form_class=MoveForm,
            title="Move the visit",
            perform=move,
            done="visit(s) moved",
        )


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = (
        "provider",
        "location",
        "weekday",
        "start_time",
        "end_time",
        "valid_from",
        "valid_until",
    )
    list_filter = ("location", "weekday", "provider")
    list_select_related = ("provider", "location")


@admin.register(ScheduleException)
class ScheduleExceptionAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "provider", "location", "start_time", "end_time", "note")
    list_filter = ("kind", "location")
    list_select_related = ("provider", "location")
    date_hierarchy = "date"


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = (
        "patient",
        "appointment_type",
        "provider",
        "location",
        "earliest",
        "latest",
        "status",
        "created_at",
    )
    list_filter = ("status", "appointment_type", "location")
    raw_id_fields = ("patient",)
    list_select_related = ("patient", "appointment_type", "provider", "location")


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(ServiceOnlyAdmin):
    """Offers are made, accepted and expired by the waitlist service only."""

    list_display = ("entry", "start", "provider", "location", "expires_at", "status")
    list_filter = ("status", "location")
    list_select_related = ("entry__patient", "provider", "location")


class BookingPolicyForm(forms.ModelForm):
    overbook_roles = forms.MultipleChoiceField(
        choices=STAFF_ROLE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=BookingPolicy._meta.get_field("overbook_roles").help_text,
    )

    class Meta:
        model = BookingPolicy
        fields = ("max_future_bookings", "change_cutoff_hours", "overbook_roles")


@admin.register(BookingPolicy)
class BookingPolicyAdmin(admin.ModelAdmin):
    form = BookingPolicyForm
    fields = ("max_future_bookings", "change_cutoff_hours", "overbook_roles")
    list_display = (
        "__str__",
        "max_future_bookings",
        "change_cutoff_hours",
        "overbook_roles",
        "updated_at",
    )

    def has_add_permission(self, request):
        return not BookingPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AppointmentStatusChange)
class AppointmentStatusChangeAdmin(ServiceOnlyAdmin):
    """Every status move of every visit (an undo included), for looking back: read-only."""

    list_display = ("at", "appointment", "from_status", "to_status", "by", "channel", "undo")
    list_filter = ("to_status", "channel", "undo")
    list_select_related = ("appointment", "by")
    raw_id_fields = ("appointment",)
    date_hierarchy = "at"
