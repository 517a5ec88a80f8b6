import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management.sql import emit_post_migrate_signal

from clinic.users.models import User
from clinic.users.roles import ROLE_PERMISSIONS, Role
from clinic.users.services import user_set_role

pytestmark = pytest.mark.django_db


def group_codenames(role: Role) -> set[str]:
    group = Group.objects.get(name=role.label)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_migration_creates_one_group_per_role():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.label for role in Role}


def listed_codenames(role: Role) -> set[str]:
    return {
        f"{model_key.split('.')[0]}.{action}_{model_key.split('.')[1]}"
        for model_key, actions in ROLE_PERMISSIONS[role].items()
        for action in actions
    }


def test_each_group_holds_exactly_the_listed_permissions():
    for role in Role:
        assert group_codenames(role) == listed_codenames(role), role


def test_after_a_flush_the_groups_get_every_apps_permissions_back():
    """A flush (as --reuse-db and transactional tests do) empties the permission table and
    sends post_migrate app by app; the groups are synced after the last app's permissions
    exist, not after the users app's turn."""
    Group.objects.all().delete()
    Permission.objects.all().delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    for role in Role:
        assert group_codenames(role) == listed_codenames(role), role


def test_front_desk_may_edit_patients_but_not_delete_them():
    codenames = group_codenames(Role.FRONT_DESK)
    assert "patients.change_patient" in codenames
    assert "patients.delete_patient" not in codenames
    assert group_codenames(Role.PATIENT) == set()


def test_role_comes_from_the_group(make_user):
    user = make_user("someone", Role.CLINICIAN)
    assert User.objects.get(pk=user.pk).role == Role.CLINICIAN


def test_setting_a_role_replaces_the_previous_one(make_user):
    user = make_user("someone", Role.FRONT_DESK)
    user_set_role(user=user, role=Role.MANAGER)
    fresh = User.objects.get(pk=user.pk)
    assert fresh.role == Role.MANAGER
    assert list(fresh.groups.values_list("name", flat=True)) == ["Manager"]
    assert fresh.is_staff, "managers reach the admin site"
    user_set_role(user=fresh, role=Role.CLINICIAN)
    assert not User.objects.get(pk=user.pk).is_staff


def test_a_user_without_a_group_has_no_role():
    assert User.objects.create_user("nobody", password="x-long-password").role is None


def test_emails_are_unique_ignoring_case(make_user):
    from django.db import IntegrityError

    make_user("a", Role.FRONT_DESK, email="Same@Example.org")
    with pytest.raises(IntegrityError):
        make_user("b", Role.FRONT_DESK, email="same@example.org")
