from django.apps import AppConfig, apps
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


def _is_last_migrated_app(sender: AppConfig) -> bool:
    """post_migrate is sent once per app with models, in INSTALLED_APPS order, and Django
    creates each app's permissions in that app's turn; only after the last one do they all
    exist."""
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    return sender is with_models[-1]


def _sync_roles(sender: AppConfig, **kwargs) -> None:
    if not _is_last_migrated_app(sender):
        return
    from django.contrib.auth.models import Group, Permission

    from .roles import assign_role_permissions

    assign_role_permissions(Group, Permission)


class UsersConfig(AppConfig):
    name = "clinic.users"
    label = "users"
    verbose_name = "Users and roles"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save, pre_save

        from . import schema  # noqa: F401  # registers the token scheme with drf-spectacular
        from .models import User
        from .sessions import expire_when_idle
        from .tokens import note_credential_change, revoke_on_credential_change
        from .two_factor import note_second_factor_at_sign_in

        post_migrate.connect(_sync_roles, dispatch_uid="clinic.users.sync_roles")
        user_logged_in.connect(expire_when_idle, dispatch_uid="clinic.users.idle_expiry")
        user_logged_in.connect(
            note_second_factor_at_sign_in, dispatch_uid="clinic.users.second_factor"
        )
        pre_save.connect(
            note_credential_change, sender=User, dispatch_uid="clinic.users.token_credentials"
        )
        post_save.connect(
            revoke_on_credential_change, sender=User, dispatch_uid="clinic.users.token_revoke"
        )


class ClinicAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on a site that signs in through our own page and its second factor."""

    default = False  # named in INSTALLED_APPS; "clinic.users" means UsersConfig

    default_site = "clinic.users.admin_site.ClinicAdminSite"
