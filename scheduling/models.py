import uuid

import pghistory
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.contrib.postgres.functions import RandomUUID
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from clinic.audit.reads import PatientData
from clinic.audit.writes import row_events
from clinic.core.db import SingleRow, choice_check
from clinic.core.translated import in_language
from clinic.users.roles import STAFF_ROLES, Role
from sites.models import Location, Provider, Room, RoomKind, Weekday


def default_booking_roles() -> list[str]:
    return ["front_desk", "clinician", "manager"]


def default_reminder_hours() -> list[int]:
    return [72, 24]


# --- Working hours --------------------------------------------------------------------------


class WorkingHours(models.Model):
    """A provider's weekly session at a location, in the location's local time."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="working_hours")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["provider", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="hours_end_after_start",
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="hours_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.get_weekday_display()} {self.start_time}-{self.end_time}"


class ExceptionKind(models.TextChoices):
    TIME_OFF = "time_off", "Provider time off"
    EXTRA_SESSION = "extra_session", "Extra session"
    HOLIDAY = "holiday", "Location closed"


class ScheduleException(models.Model):
    """A dated change to the weekly hours: time off, an extra session, a closed location.
    Without times it covers the whole day."""

    kind = models.CharField(max_length=16, choices=ExceptionKind.choices)
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="exceptions"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="exceptions"
    )
    date = models.DateField()
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date", "start_time"]
        indexes = [models.Index(fields=["date"], name="exception_date_idx")]
        constraints = [
            choice_check("kind", ExceptionKind, "exception_kind_valid"),
            models.CheckConstraint(
                condition=~models.Q(kind="time_off") | models.Q(provider__isnull=False),
                name="exception_time_off_has_provider",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="holiday") | models.Q(location__isnull=False),
                name="exception_holiday_has_location",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="extra_session")
                | models.Q(
                    provider__isnull=False,
                    location__isnull=False,
                    start_time__isnull=False,
                    end_time__isnull=False,
                ),
                name="exception_extra_session_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(start_time__isnull=True, end_time__isnull=True)
                | models.Q(end_time__gt=models.F("start_time")),
                name="exception_times_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


# --- Appointments ------------------------------------------------------------------------------


class TsTzRange(models.Func):
    """tstzrange(lower, upper, '[)') — the half-open span the exclusion constraints compare."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class AppointmentKind(models.TextChoices):
    NEW_CONSULT = "new_consult", "New-patient consult"
    FOLLOW_UP = "follow_up", "Follow-up"
    PROCEDURE = "procedure", "Procedure"
    PUMP_REFILL = "pump_refill", "Pump refill"
    TELEHEALTH = "telehealth", "Telehealth"


class AppointmentType(models.Model):
    """What can be booked: its length, buffers, who may book it and how far ahead."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    name_es = models.CharField(
        "name in Spanish",
        max_length=80,
        blank=True,
        help_text="What Spanish-speaking patients read; when blank they read the English name.",
    )
    kind = models.CharField(max_length=16, choices=AppointmentKind.choices)
    duration_minutes = models.PositiveSmallIntegerField(
        help_text="For procedures the procedure type's time (and levels) is used instead."
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0)
    room_kind = models.CharField(
        max_length=32,
        choices=RoomKind.choices,
        blank=True,
        help_text="The room it needs; empty for none (telehealth). Procedures use the catalog's.",
    )
    patient_bookable = models.BooleanField(default=False)
    bookable_by = ArrayField(
        models.CharField(max_length=16),
        default=default_booking_roles,
        blank=True,
        help_text="Staff roles that may book it: front_desk, clinician, manager.",
    )
    min_notice_hours = models.PositiveSmallIntegerField(default=24)
    max_horizon_days = models.PositiveSmallIntegerField(default=90)
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="Offered start times are this many minutes apart."
    )
    waitlist_offer_hours = models.PositiveSmallIntegerField(
        default=4, help_text="How long a freed slot is held for the waiting patient offered it."
    )
    reminder_hours = ArrayField(
        models.PositiveSmallIntegerField(),
        default=default_reminder_hours,
        blank=True,
        help_text="Reminders go out this many hours before, on the local clock (72, 24).",
    )
    color = models.CharField(
        max_length=7, default="#0b5cad", help_text="Day board colour, #rrggbb."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            choice_check("kind", AppointmentKind, "appointmenttype_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0), name="appointmenttype_duration_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def localized_name(self) -> str:
        """The name in the reader's language (patients' pages and messages)."""
        return in_language(self.name, self.name_es)


class AppointmentStatus(models.TextChoices):
    # Translated for the patient's pages; staff pages are always in English.
    BOOKED = "booked", gettext_lazy("Booked")
    CHECKED_IN = "checked_in", gettext_lazy("Checked in")
    IN_ROOM = "in_room", gettext_lazy("In room")
    COMPLETED = "completed", gettext_lazy("Completed")
    CANCELLED = "cancelled", gettext_lazy("Cancelled")
    NO_SHOW = "no_show", gettext_lazy("No-show")


# Cancelled and no-show appointments free their time; every other state holds it.
HOLDS_TIME = [
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_ROOM,
    AppointmentStatus.COMPLETED,
]


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=["updated_at"],
    model_name="AppointmentEvent",
)
class Appointment(PatientData):
    """A booked visit. PostgreSQL itself refuses two active appointments that overlap for
    one provider, one room or one patient (exclusion constraints on [start, end) spans)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    procedure_order = models.ForeignKey(
        "procedures.ProcedureOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    # The provider's and the room's time, buffers included; the patient's is [start, end).
    block_start = models.DateTimeField()
    block_end = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    findings = models.JSONField(default=list, blank=True, help_text="Safety check at booking.")
    cancel_reason = models.CharField(max_length=300, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = models.CharField(max_length=80, blank=True)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the patient confirmed from a reminder."
    )
    # Booked on purpose outside the provider's hours or on top of another of their visits
    # (the provider-overlap constraint skips such rows; the room and patient ones do not).
    overbooked = models.BooleanField(default=False)
    overbook_reason = models.CharField(max_length=300, blank=True)
    # When the visit reached each state, so the board shows the waits (arrived -> room -> done).
    checked_in_at = models.DateTimeField(null=True, blank=True)
    in_room_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # One event in the patient's and the provider's calendars for the visit's whole life: a
    # move carries the UID to the new row and raises the sequence, as a cancellation does.
    calendar_uid = models.UUIDField(default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    calendar_sequence = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["location", "start"], name="appointment_location_day_idx"),
            models.Index(fields=["provider", "start"], name="appointment_provider_day_idx"),
            models.Index(fields=["patient", "start"], name="appointment_patient_idx"),
            # The appointment list's page in start order read from the index, not a sort of
            # every visit ever booked.
            models.Index(fields=["start"], name="appointment_start_idx"),
            # Availability's read of the providers' and rooms' time in a window (queried as
            # an overlap on the same range expression, scheduling/availability.py). The
            # exclusion constraints' indexes cannot serve it: the provider's leaves out
            # overbooked visits, and the room's, range first, is searched once per room.
            GistIndex(
                "provider",
                TsTzRange("block_start", "block_end", models.Value("[)")),
                name="appointment_provider_busy_idx",
                condition=models.Q(status__in=HOLDS_TIME),
            ),
            GistIndex(
                "room",
                TsTzRange("block_start", "block_end", models.Value("[)")),
                name="appointment_room_busy_idx",
                condition=models.Q(status__in=HOLDS_TIME, room__isnull=False),
            ),
        ]
        constraints = [
            choice_check("status", AppointmentStatus, "appointment_status_valid"),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    block_start__lte=models.F("start"), block_end__gte=models.F("end")
                ),
                name="appointment_block_covers_visit",
            ),
            models.CheckConstraint(
                condition=models.Q(overbooked=False) | ~models.Q(overbook_reason=""),
                name="appointment_overbook_has_reason",
            ),
            models.UniqueConstraint(
                fields=["booked_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="appointment_idempotency_key_unique",
            ),
            ExclusionConstraint(
                name="appointment_no_provider_overlap",
                expressions=[
                    (
                        TsTzRange("block_start", "block_end", models.Value("[)")),
                        RangeOperators.OVERLAPS,
                    ),
                    ("provider", RangeOperators.EQUAL),
                ],
                condition=models.Q(status__in=HOLDS_TIME, overbooked=False),
            ),
            ExclusionConstraint(
                name="appointment_no_room_overlap",
                expressions=[
                    (
                        TsTzRange("block_start", "block_end", models.Value("[)")),
                        RangeOperators.OVERLAPS,
                    ),
                    ("room", RangeOperators.EQUAL),
                ],
                condition=models.Q(status__in=HOLDS_TIME, room__isnull=False),
            ),
            ExclusionConstraint(
                name="appointment_no_patient_overlap",
                expressions=[
                    (TsTzRange("start", "end", models.Value("[)")), RangeOperators.OVERLAPS),
                    ("patient", RangeOperators.EQUAL),
                ],
                condition=models.Q(status__in=HOLDS_TIME),
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment {self.id}"


class AppointmentStatusChange(models.Model):
    """One move of an appointment's status (an undo included): when, by whom, through which
    channel and why. Written by the services only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=12, choices=AppointmentStatus.choices)
    to_status = models.CharField(max_length=12, choices=AppointmentStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=16)
    reason = models.CharField(max_length=300, blank=True)
    undo = models.BooleanField(default=False, help_text="This change undid the one before it.")

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["appointment", "at"], name="status_change_appt_idx")]
        constraints = [
            choice_check("from_status", AppointmentStatus, "status_change_from_valid"),
            choice_check("to_status", AppointmentStatus, "status_change_to_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status} at {self.at:%Y-%m-%d %H:%M}"


STAFF_ROLE_CHOICES = [(role.value, role.label) for role in Role if role in STAFF_ROLES]


def default_overbook_roles() -> list[str]:
    return [Role.MANAGER.value, Role.CLINICIAN.value, Role.FRONT_DESK.value]


class BookingPolicy(SingleRow):
    """The rules for patients booking and changing their own visits, and which staff roles
    may overbook; one row, edited by a manager in the admin. Staff are not bound by the
    patients' rules."""

    max_future_bookings = models.PositiveSmallIntegerField(
        default=3, help_text="Upcoming visits a patient may hold at once when booking online."
    )
    change_cutoff_hours = models.PositiveSmallIntegerField(
        default=24,
        help_text="Patients cancel or reschedule online until this many hours before a visit; "
        "after that they call the clinic.",
    )
    overbook_roles = ArrayField(
        models.CharField(max_length=16, choices=STAFF_ROLE_CHOICES),
        default=default_overbook_roles,
        blank=True,
        help_text="Staff roles that may overbook on purpose (outside hours or on top of "
        "another visit of the provider), with a reason.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "online booking policy"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="booking_policy_single_row")
        ]

    def __str__(self) -> str:
        return "Online booking policy"


# --- Waitlist -------------------------------------------------------------------------------


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered a slot"
    BOOKED = "booked", "Booked"
    WITHDRAWN = "withdrawn", "Withdrawn"


@pghistory.track(*row_events())
class WaitlistEntry(PatientData):
    """A patient waiting for an earlier slot of a kind of visit, within a window of days."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    earliest = models.DateField()
    latest = models.DateField()
    status = models.CharField(
        max_length=12, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["status", "appointment_type", "created_at"], name="waitlist_queue_idx"
            )
        ]
        constraints = [
            choice_check("status", WaitlistStatus, "waitlist_status_valid"),
            models.CheckConstraint(
                condition=models.Q(latest__gte=models.F("earliest")), name="waitlist_window_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"Waitlist entry {self.id}"


class OfferStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    EXPIRED = "expired", "Expired"


class WaitlistOffer(models.Model):
    """A freed slot offered to the first matching waiting patient, until it expires. The
    message that tells the patient goes through the reminders issue's outbox."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    start = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    appointment = models.OneToOneField(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="waitlist_offer"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            choice_check("status", OfferStatus, "offer_status_valid"),
            models.UniqueConstraint(
                fields=["entry"], condition=models.Q(status="open"), name="one_open_offer_per_entry"
            ),
        ]

    def __str__(self) -> str:
        return f"Waitlist offer {self.id}"
