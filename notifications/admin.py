from django.contrib import admin

from .models import LinkToken, Message, MessageState, NotificationPolicy
from .services import message_retry


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "variant", "channel", "state", "due_at", "sent_at", "attempts")
    list_filter = ("state", "kind", "channel")
    search_fields = ("=id", "=subject_id", "=patient__mrn")
    date_hierarchy = "due_at"
    raw_id_fields = ("patient", "location")
    readonly_fields = [f.name for f in Message._meta.fields]
    actions = ["retry_failed"]

    def has_add_permission(self, request):
        return False  # messages come from the plans, never typed in

    @admin.action(description="Send the selected failed messages again")
    def retry_failed(self, request, queryset):
        retried = 0
        for message in queryset.filter(state=MessageState.FAILED):
            message_retry(message=message, by=request.user)
            retried += 1
        self.message_user(request, f"{retried} message(s) will be sent again.")


@admin.register(LinkToken)
class LinkTokenAdmin(admin.ModelAdmin):
    list_display = ("id", "purpose", "expires_at", "used_at")
    list_filter = ("purpose",)
    readonly_fields = [f.name for f in LinkToken._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(NotificationPolicy)
class NotificationPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "quiet_hours_start", "quiet_hours_end", "max_attempts", "updated_at")

    def has_add_permission(self, request):
        return not NotificationPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
