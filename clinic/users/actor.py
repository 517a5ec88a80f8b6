"""Who acts, in what role and through which channel: the one value every service takes
instead of a bare user, so a service never sniffs roles off a request or a `None`."""

from dataclasses import dataclass

from django.db import models

from .models import User
from .roles import CLINICAL_ROLES, STAFF_ROLES, Role


class ActorChannel(models.TextChoices):
    DESK = "desk", "Staff pages"
    PORTAL = "portal", "Patient portal"
    API = "api", "API"
    MESSAGE_LINK = "message_link", "Link in a message"
    ADMIN = "admin", "Admin site"
    SYSTEM = "system", "The system itself"


@dataclass(frozen=True)
class Actor:
    channel: ActorChannel
    user: User | None = None
    role: Role | None = None

    @classmethod
    def of(cls, user: User, channel: ActorChannel) -> "Actor":
        """A signed-in user acting through `channel`, in the role their groups give."""
        return cls(channel=channel, user=user, role=user.role)

    @classmethod
    def desk(cls, user: User) -> "Actor":
        return cls.of(user, ActorChannel.DESK)

    @classmethod
    def api(cls, user: User) -> "Actor":
        return cls.of(user, ActorChannel.API)

    @classmethod
    def portal(cls, user: User) -> "Actor":
        return cls.of(user, ActorChannel.PORTAL)

    @classmethod
    def admin(cls, user: User) -> "Actor":
        return cls.of(user, ActorChannel.ADMIN)

    @classmethod
    def seeding(cls, user: User) -> "Actor":
        """A demo or benchmark script acting as one of the clinic's people."""
        return cls.of(user, ActorChannel.SYSTEM)

    @classmethod
    def system(cls) -> "Actor":
        """Beat, the demo seed, a data import: no person, every rule for staff applies."""
        return cls(channel=ActorChannel.SYSTEM)

    @classmethod
    def message_link(cls) -> "Actor":
        """A patient acting through a single-use link in a message, with no login."""
        return cls(channel=ActorChannel.MESSAGE_LINK, role=Role.PATIENT)

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_clinic_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_clinician(self) -> bool:
        return self.role in CLINICAL_ROLES
