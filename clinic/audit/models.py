import uuid

from django.conf import settings
from django.db import models


class ChartAccess(models.Model):
    """Who opened whose history, and when: every view of the physician's view, page or API."""

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
