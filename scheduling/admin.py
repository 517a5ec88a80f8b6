from django.contrib import admin

from .models import (
    Appointment,
    AppointmentType,
    BookingPolicy,
    ScheduleException,
    WaitlistEntry,
    WaitlistOffer,
    WorkingHours,
)


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "duration_minutes", "patient_bookable", "is_active")
    list_filter = ("kind", "patient_bookable", "is_active")
    search_fields = ("name", "code")


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ("start", "appointment_type", "provider", "room", "location", "status")
    list_filter = ("status", "location", "appointment_type")
    raw_id_fields = ("patient", "procedure_order")
    list_select_related = ("appointment_type", "provider", "room", "location")
    date_hierarchy = "start"
    readonly_fields = (
        "block_start",
        "block_end",
        "findings",
        "booked_by",
        "created_at",
        "updated_at",
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
class WaitlistOfferAdmin(admin.ModelAdmin):
    list_display = ("entry", "start", "provider", "location", "expires_at", "status")
    list_filter = ("status", "location")
    readonly_fields = ("entry", "appointment", "created_at")


@admin.register(BookingPolicy)
class BookingPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "max_future_bookings", "change_cutoff_hours", "updated_at")

    def has_add_permission(self, request):
        return not BookingPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
