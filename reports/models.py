import uuid

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class ResearchExport(models.Model):
    """One de-identified research export: who took it, when, for which dates and how many
    rows. Nothing about any patient: the request's audit row names whose data was read.
    Append-only, like the audit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(db_default=Now(), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        db_constraint=False,  # the row outlives the account; the username is copied below
        related_name="+",
    )
    username = models.CharField(max_length=150)
    start = models.DateField(help_text="First day of the procedures exported.")
    end = models.DateField(help_text="Last day of the procedures exported.")
    rows = models.PositiveIntegerField()
    patients = models.PositiveIntegerField()

    class Meta:
        ordering = ["-at"]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"Research export by {self.username} at {self.at:%Y-%m-%d %H:%M}"
