"""A manager's CSV import: the file while it is needed, its dry run and its progress."""

import uuid

from django.conf import settings
from django.db import models


class ImportKind(models.TextChoices):
    PATIENTS = "patients", "Patients"
    APPOINTMENTS = "appointments", "Upcoming appointments"


class ImportState(models.TextChoices):
    CHECKED = "checked", "Dry run shown"
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    DISCARDED = "discarded", "Discarded"


FINISHED_STATES = (ImportState.DONE, ImportState.FAILED, ImportState.DISCARDED)


class ImportJob(models.Model):
    """One uploaded file. `csv_text` holds the file only until the import has run (or was
    discarded); `rows` is the per-row outcome of the dry run, then of the real run."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    state = models.CharField(max_length=16, choices=ImportState.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    csv_text = models.TextField(blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    rows = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(processed_rows__lte=models.F("total_rows")),
                name="import_job_progress_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> int:
        if self.state == ImportState.DONE or not self.total_rows:
            return 100 if self.state == ImportState.DONE else 0
        return self.processed_rows * 100 // self.total_rows
