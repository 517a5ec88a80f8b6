from django.contrib import admin

from .models import Registration


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    """Read only, for support: who asked, when, and whether the link was used. The password
    hash and the token digest are never shown."""

    list_display = ("email", "created_at", "expires_at", "verified_at", "for_existing_account")
    list_filter = ("for_existing_account", ("verified_at", admin.EmptyFieldListFilter))
    search_fields = ("email",)
    date_hierarchy = "created_at"
    fields = (
        "id",
        "email",
        "for_existing_account",
        "legal_first_name",
        "legal_last_name",
        "date_of_birth",
        "phone",
        "preferred_channel",
        "consent_sms",
        "consent_email",
        "created_at",
        "expires_at",
        "verified_at",
        "user",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
