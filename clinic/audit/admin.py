"""The chart-access log in the admin: read-only. Nobody adds, edits or deletes an entry
here; clinic.audit.services.chart_access_record writes them, and managers also read them at /history/access-log/."""

from django.contrib import admin

from .models import ChartAccess


@admin.register(ChartAccess)
class ChartAccessAdmin(admin.ModelAdmin):
    list_display = ("accessed_at", "user", "patient", "via")
    list_filter = ("via",)
    search_fields = ("patient__mrn", "user__username")
    date_hierarchy = "accessed_at"
    list_select_related = ("user", "patient")
    fields = ("accessed_at", "user", "patient", "via")
    readonly_fields = fields
    ordering = ("-accessed_at",)
    show_full_result_count = False  # the log only grows: no count(*) of all of it per page

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
