from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import SignInUnlock, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "role_name", "is_active")
    list_filter = ("groups", "is_active", "is_staff")

    @admin.display(description="Role")
    def role_name(self, user: User) -> str:
        return user.role.label if user.role else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")


class ReadOnlyAdmin(admin.ModelAdmin):
    """django-axes' rows are written by sign-ins only; a pause is lifted on the managers'
    sign-ins page (clinic/users/unlock.py), never by editing or deleting rows here."""

    actions = None

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessAttempt)
class AccessAttemptAdmin(ReadOnlyAdmin, axes_admin.AccessAttemptAdmin):
    pass


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(ReadOnlyAdmin, axes_admin.AccessFailureLogAdmin):
    pass


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin, axes_admin.AccessLogAdmin):
    pass


@admin.register(SignInUnlock)
class SignInUnlockAdmin(ReadOnlyAdmin):
    """Emailed unlock links: who, when, until when, used or not (never the token)."""

    list_display = ("user", "created_at", "expires_at", "used_at")
    fields = list_display
    list_select_related = ("user",)
    ordering = ("-created_at",)
