import uuid

from django.conf import settings
from django.db import models


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DECEASED = "deceased", "Deceased"


class Patient(models.Model):
    """A person the clinic treats. The patients issue extends the chart around it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mrn = models.CharField(
        "MRN", max_length=20, unique=True, editable=False, help_text="Medical record number."
    )
    legal_first_name = models.CharField(max_length=80)
    legal_last_name = models.CharField(max_length=80)
    preferred_name = models.CharField(max_length=80, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=16, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +19195550123.")
    email = models.EmailField(blank=True)
    home_location = models.ForeignKey(
        "scheduling.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patients",
    )
    status = models.CharField(
        max_length=16, choices=PatientStatus.choices, default=PatientStatus.ACTIVE
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient",
        help_text="The portal login of this patient, if any.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_last_name", "legal_first_name"]
        indexes = [
            models.Index(fields=["legal_last_name", "legal_first_name"], name="patient_name_idx"),
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PatientStatus.values), name="patient_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(sex__in=Sex.values), name="patient_sex_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(date_of_birth__gte="1900-01-01"),
                name="patient_dob_after_1900",
            ),
        ]

    def __str__(self) -> str:
        # For the admin's lists and breadcrumbs. Logs carry patient.id, never str(patient).
        return f"Patient {self.mrn}"

    @property
    def first_name(self) -> str:
        return self.preferred_name or self.legal_first_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.legal_last_name}"
