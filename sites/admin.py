from django.contrib import admin

from .models import Location, OpeningHours, Provider, Room, new_calendar_token


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
    filter_horizontal = ("locations",)
    raw_id_fields = ("user",)

    @admin.action(description="Renew the calendar feed link (the old one stops working)")
    def renew_calendar_link(self, request, queryset):
        for provider in queryset:
            provider.calendar_token = new_calendar_token()
            provider.save(update_fields=["calendar_token"])


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin):
    list_display = ("location", "weekday", "opens", "closes")
    list_filter = ("location", "weekday")
    list_select_related = ("location",)
