from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from clinic.core.admin import ServiceOnlyAdmin
from clinic.core.errors import DomainError
from clinic.users.access import signed_in_user
from clinic.users.actor import Actor

from .models import LinkToken, Message, MessageState, NotificationPolicy
from .services import message_retry


@admin.register(Message)
class MessageAdmin(ServiceOnlyAdmin):
    """Messages come from the plans and change through the outbox only; a failed one can be
    sent again through the retry service."""

    list_display = ("id", "kind", "variant", "channel", "state", "due_at", "sent_at", "attempts")
    list_filter = ("state", "kind", "channel")
    search_fields = ("=id", "=subject_id", "=patient__mrn")
    date_hierarchy = "due_at"
    raw_id_fields = ("patient", "location")
    actions = ["retry_failed"]

    @admin.action(description="Send the selected failed messages again", permissions=["act"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        retried = 0
        for message in queryset.filter(state=MessageState.FAILED):
            try:
                message_retry(message=message, by=Actor.admin(signed_in_user(request)))
            except DomainError as error:
                self.message_user(request, f"{message.pk}: {error.detail}", messages.ERROR)
            else:
                retried += 1
        self.message_user(request, f"{retried} message(s) will be sent again.")


@admin.register(LinkToken)
class LinkTokenAdmin(ServiceOnlyAdmin):
    list_display = ("id", "purpose", "expires_at", "used_at")
    list_filter = ("purpose",)


@admin.register(NotificationPolicy)
class NotificationPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "quiet_hours_start", "quiet_hours_end", "max_attempts", "updated_at")

    def has_add_permission(self, request):
        return not NotificationPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
