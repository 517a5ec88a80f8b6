from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from django.contrib.auth.models import Group, Permission

    from .roles import assign_role_permissions

    assign_role_permissions(Group, Permission)


class UsersConfig(AppConfig):
    name = "clinic.users"
    label = "users"
    verbose_name = "Users and roles"

    def ready(self):
        # After Django's own handler has created the permissions (auth is listed first).
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="clinic.users.sync_roles")
