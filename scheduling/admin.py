from django.contrib import admin

from .models import (
    Appointment,
    AppointmentType,
    BookingPolicy,
    Location,
    OpeningHours,
    Provider,
    Room,
    ScheduleException,
    WaitlistEntry,
    WaitlistOffer,
    WorkingHours,
    new_calendar_token,
)


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "time_zone", "city", "state", "is_active")
    search_fields = ("name", "code", "city")
    inlines = [RoomInline]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "location", "kind", "is_active")
    list_filter = ("location", "kind", "is_active")
    list_select_related = ("location",)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    actions = ["renew_calendar_link"]
    list_display = ("display_name", "kind", "npi", "is_active")
    list_filter = ("kind", "is_active", "locations")
    search_fields = ("last_name", "first_name", "npi")
    filter_horizontal = ("locations", "procedure_types")
    raw_id_fields = ("user",)

    @admin.action(description="Renew the calendar feed link (the old one stops working)")
    def renew_calendar_link(self, request, queryset):
        for provider in queryset:
            provider.calendar_token = new_calendar_token()
            provider.save(update_fields=["calendar_token"])


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


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin):
    list_display = ("location", "weekday", "opens", "closes")
    list_filter = ("location", "weekday")
    list_select_related = ("location",)


@admin.register(BookingPolicy)
class BookingPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "max_future_bookings", "change_cutoff_hours", "updated_at")

    def has_add_permission(self, request):
        return not BookingPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
