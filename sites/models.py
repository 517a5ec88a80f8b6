"""Where and by whom the clinic works: locations with their time zones and opening hours,
rooms, and the providers who see patients there. The floor every domain app stands on."""

import secrets
import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from clinic.core.db import choice_check


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "%(value)s is not an IANA time zone (for example America/Chicago).",
            params={"value": value},
        ) from None


class RoomKind(models.TextChoices):
    CONSULT = "consult", "Consult room"
    FLUOROSCOPY = "fluoroscopy_suite", "Procedure suite with fluoroscopy"
    ULTRASOUND = "ultrasound", "Ultrasound room"
    PROCEDURE = "procedure_room", "Procedure room"
    OPERATING = "operating_room", "Operating room"
    RECOVERY = "recovery", "Recovery"


class ProviderKind(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    PHYSICIAN_ASSISTANT = "pa", "Physician assistant"
    NURSE_PRACTITIONER = "np", "Nurse practitioner"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Location(models.Model):
    """A clinic site. Every time shown or messaged for it is in its own time zone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(
        max_length=32, unique=True, help_text="Short stable code, e.g. raleigh."
    )
    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +19195550100.")
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "scheduling_location"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Room(models.Model):
    Kind = RoomKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=32, choices=RoomKind.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "scheduling_room"
        ordering = ["location__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "name"], name="room_name_unique_per_location"
            ),
            choice_check("kind", RoomKind, "room_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location.code})"


class Provider(models.Model):
    """A physician, PA or NP who sees patients; may be linked to a login."""

    Kind = ProviderKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="provider",
    )
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    credentials = models.CharField(max_length=40, blank=True, help_text="e.g. MD, DO, PA-C")
    kind = models.CharField(
        max_length=16, choices=ProviderKind.choices, default=ProviderKind.PHYSICIAN
    )
    npi = models.CharField(
        "NPI", max_length=10, blank=True, help_text="National Provider Identifier, 10 digits."
    )
    locations = models.ManyToManyField(Location, related_name="providers", blank=True)
    is_active = models.BooleanField(default=True)
    calendar_token = models.CharField(
        max_length=64,
        unique=True,
        default=new_calendar_token,
        editable=False,
        help_text="The secret in the provider's calendar feed address; renew it to revoke.",
    )

    class Meta:
        db_table = "scheduling_provider"
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["npi"], condition=~models.Q(npi=""), name="provider_npi_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(npi="") | models.Q(npi__regex=r"^[0-9]{10}$"),
                name="provider_npi_ten_digits",
            ),
            choice_check("kind", ProviderKind, "provider_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        prefix = "Dr. " if self.kind == self.Kind.PHYSICIAN else ""
        suffix = f", {self.credentials}" if self.credentials else ""
        return f"{prefix}{self.first_name} {self.last_name}{suffix}"


class OpeningHours(models.Model):
    """When a location is open on a weekday; provider sessions count only inside them."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        db_table = "scheduling_openinghours"
        ordering = ["location", "weekday", "opens"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")), name="opening_closes_after_opens"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="opening_weekday_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location} {self.get_weekday_display()} {self.opens}-{self.closes}"
