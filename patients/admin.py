from django.contrib import admin

from .models import Patient
from .services import next_mrn


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("mrn", "legal_last_name", "legal_first_name", "date_of_birth", "status")
    list_filter = ("status", "home_location")
    search_fields = ("mrn", "legal_last_name", "legal_first_name", "email", "phone")
    readonly_fields = ("mrn", "created_at", "updated_at")
    raw_id_fields = ("user",)
    list_select_related = ("home_location",)

    def save_model(self, request, obj, form, change):
        if not obj.mrn:
            obj.mrn = next_mrn()
        super().save_model(request, obj, form, change)
