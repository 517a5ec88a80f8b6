"""Role checks for pages and the API. Object-level scoping lives in each app's selectors."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.permissions import BasePermission

from .models import User
from .roles import CLINICAL_ROLES, STAFF_ROLES, Role


def signed_in_user(request: HttpRequest) -> User:
    """The user behind a request that a login or role check already let through.

    Raises PermissionDenied for an anonymous request, so a page that forgot its guard fails
    closed instead of acting as nobody."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("You need to sign in.")
    return user


def role_required(*roles: Role):
    """Page decorator: anonymous users go to the login page, other roles get a 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_role(*roles):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def staff_required(view):
    return role_required(*STAFF_ROLES)(view)


class HasRole(BasePermission):
    """DRF permission: subclass with `roles = (...)`, or use the ready-made ones below."""

    roles: tuple[Role, ...] = ()
    message = "Your role does not give access to this resource."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_role(*self.roles))


class IsClinicStaff(HasRole):
    roles = tuple(STAFF_ROLES)


class IsClinician(HasRole):
    roles = tuple(CLINICAL_ROLES)
