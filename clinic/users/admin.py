from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "role_name", "is_active")
    list_filter = ("groups", "is_active", "is_staff")

    @admin.display(description="Role")
    def role_name(self, user: User) -> str:
        return user.role.label if user.role else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")
