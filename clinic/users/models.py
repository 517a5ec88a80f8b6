from collections.abc import Iterable

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property

from .roles import GROUP_NAME_TO_ROLE, ROLE_PRIORITY, STAFF_ROLES, Role


class User(AbstractUser):
    """A login. Its role comes from its group; a patient's user links to one Patient."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="users_user_email_ci_unique",
                violation_error_message="A user with this email already exists.",
            )
        ]

    @cached_property
    def role(self) -> Role | None:
        if not self.is_authenticated:
            return None
        return self.role_of([group.name for group in self.groups.all()])

    def role_of(self, group_names: Iterable[str]) -> Role | None:
        """The role these groups of the user's give (API token sign-in reads the names with
        the token, clinic/users/tokens.py): the first held in ROLE_PRIORITY, else a
        superuser's."""
        held = {GROUP_NAME_TO_ROLE.get(name) for name in group_names}
        for role in ROLE_PRIORITY:
            if role in held:
                return role
        return Role.MANAGER if self.is_superuser else None

    @property
    def is_clinic_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


class SignInUnlock(models.Model):
    """An emailed link that lifts the sign-in pause of one account (clinic/users/unlock.py).

    Only the sha256 digest of the token is kept; a link works once, until it expires, and a
    newer link for the same account replaces it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="users_signinunlock_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=models.Q(used_at__isnull=True)
                | models.Q(used_at__gte=models.F("created_at")),
                name="users_signinunlock_used_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"Sign-in unlock link {self.pk}"
