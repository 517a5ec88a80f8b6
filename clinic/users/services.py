from django.contrib.auth.models import Group
from django.db import transaction

from .models import User
from .roles import Role


@transaction.atomic
def user_set_role(*, user: User, role: Role) -> User:
    """Make the role the user's only role group. Staff-site access follows the manager role."""
    role_groups = Group.objects.filter(name__in=[r.label for r in Role])
    user.groups.remove(*role_groups)
    user.groups.add(Group.objects.get(name=role.label))
    user.is_staff = role == Role.MANAGER or user.is_superuser
    user.save(update_fields=["is_staff"])
    user.__dict__.pop("role", None)
    return user


@transaction.atomic
def user_upsert(
    *,
    username: str,
    password: str,
    role: Role,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    is_superuser: bool = False,
) -> User:
    """Create the user or bring an existing one up to date (used by seed_demo and tests)."""
    user, _ = User.objects.get_or_create(username=username)
    user.email = email
    user.first_name = first_name
    user.last_name = last_name
    user.is_superuser = is_superuser
    user.is_active = True
    user.set_password(password)
    user.save()
    return user_set_role(user=user, role=role)
