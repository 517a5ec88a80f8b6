import pytest
from django.contrib.auth.models import Group

from clinic.users.models import User
from clinic.users.roles import ROLE_PERMISSIONS, Role
from clinic.users.services import user_set_role

pytestmark = pytest.mark.django_db


def group_codenames(role: Role) -> set[str]:
    group = Group.objects.get(name=role.label)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_migration_creates_one_group_per_role():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.label for role in Role}


def test_each_group_holds_exactly_the_listed_permissions():
    for role in Role:
        expected = {
            f"{model_key.split('.')[0]}.{action}_{model_key.split('.')[1]}"
            for model_key, actions in ROLE_PERMISSIONS[role].items()
            for action in actions
        }
        assert group_codenames(role) == expected, role


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
