import uuid

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Now


class AuditAction(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"


class AuditEvent(models.Model):
    """One request that read or changed patients' data: who, in which role, whose records,
    what (the route), when, from which address and through which channel.

    Append-only: triggers refuse UPDATE and DELETE whoever asks, the application's own
    database role included. What a write changed, before and after, is in the
    django-pghistory event tables, filed under the same `request_id` in their context."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request_id = models.UUIDField(db_index=True)
    at = models.DateTimeField(db_default=Now(), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_constraint=False,  # the row outlives the account; the username is copied below
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, blank=True)
    channel = models.CharField(max_length=16)
    action = models.CharField(max_length=8, choices=AuditAction.choices)
    method = models.CharField(max_length=8)
    route = models.CharField(max_length=120, help_text="The URL pattern's name.")
    path = models.CharField(max_length=300, help_text="The path, with any token redacted.")
    status = models.PositiveSmallIntegerField()
    address = models.GenericIPAddressField(null=True, blank=True)
    patients = ArrayField(models.UUIDField(), help_text="Whose data the request touched.")

    class Meta:
        ordering = ["-at"]
        indexes = [
            GinIndex(fields=["patients"], name="auditevent_patients_gin"),
            models.Index(fields=["user", "-at"], name="auditevent_user_idx"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.username or 'no sign-in'} at {self.at:%Y-%m-%d %H:%M}"


class ChartAccess(models.Model):
    """The chart-open log kept before AuditEvent (every row was copied into it by migration
    audit 0002). Nothing writes here any more; the table stays for the record."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="chart_accesses"
    )
    accessed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    via = models.CharField(
        max_length=8, help_text="history (page), api, or chart (the chart summary page)"
    )

    class Meta:
        ordering = ["-accessed_at"]
        verbose_name_plural = "chart accesses"
        db_table = "history_chartaccess"
        indexes = [models.Index(fields=["patient", "-accessed_at"], name="chartaccess_patient_idx")]

    def __str__(self) -> str:
        return f"Chart access {self.id}"
