"""The audit rows in the admin: read-only (the table refuses changes anyway). Managers search
and export them at /manage/audit/."""

from django.contrib import admin

from .models import AuditEvent, ChartAccess


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # the log only grows: no count(*) of all of it per page

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "username", "role", "channel", "action", "route", "status")
    list_filter = ("action", "channel", "role")
    search_fields = ("username", "route")
    date_hierarchy = "at"
    ordering = ("-at",)


@admin.register(ChartAccess)
class ChartAccessAdmin(ReadOnlyAdmin):
    list_display = ("accessed_at", "user", "patient", "via")
    list_select_related = ("user", "patient")
    ordering = ("-accessed_at",)
