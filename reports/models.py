import uuid

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
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


# --- Summary tables (decision 0038): the reports' figures per day, refreshed by Celery beat ----
# Derived data: they hold ids, not foreign keys (a row goes when its source does, at the next
# refresh), and `manage.py rebuild_report_summaries` makes them again from the live tables.


class SummaryState(models.Model):
    """The one row saying what the summaries hold: every change made before `refreshed_at`,
    and the days up to `covered_through` (the last whole past day at every location then);
    the reports read later days live. The settings the figures depend on are kept too: when
    one has changed since, the reports read live and the next refresh rebuilds."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    refreshed_at = models.DateTimeField()
    covered_through = models.DateField()
    change_cutoff_hours = models.PositiveIntegerField()
    survey_link_days = models.PositiveIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="summary_state_one")]

    def __str__(self) -> str:
        return f"Report summaries as of {self.refreshed_at:%Y-%m-%d %H:%M}"


class SummaryChange(models.Model):
    """A change the summaries have not taken in yet, written by triggers on the tables the
    reports read (migration 0003): a visit or message instant at a location (its local day is
    to be summed again), or a procedure record or patient (their outcome rows)."""

    id = models.BigAutoField(primary_key=True)
    topic = models.CharField(max_length=8)  # visit, message, record, patient
    location_id = models.UUIDField(null=True)
    at = models.DateTimeField(null=True)
    subject_id = models.UUIDField(null=True)

    def __str__(self) -> str:
        return f"{self.topic} change {self.pk}"


class VisitDay(models.Model):
    """The visits of one local day at one location, by provider, room, kind of visit and
    procedure type: the additive figures of the no-shows, utilization and confirmations
    reports. `*_by_lead` split the attendance counts by booking lead band (LEAD_BANDS)."""

    day = models.DateField()
    location_id = models.UUIDField()
    provider_id = models.UUIDField()
    room_id = models.UUIDField(null=True)
    appointment_type_id = models.UUIDField()
    procedure_type_id = models.UUIDField(null=True)
    due = models.IntegerField()
    no_shows = models.IntegerField()
    late = models.IntegerField()
    due_by_lead = ArrayField(models.IntegerField())
    no_shows_by_lead = ArrayField(models.IntegerField())
    late_by_lead = ArrayField(models.IntegerField())
    booked_visits = models.IntegerField()
    booked_minutes = models.FloatField()
    open_visits = models.IntegerField()  # not cancelled
    reminded = models.IntegerField()
    confirmed = models.IntegerField()
    confirmed_reminded = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["day", "location_id"], name="visitday_day_idx")]

    def __str__(self) -> str:
        return f"Visits of {self.day}"


class VisitWaitMinute(models.Model):
    """How many checked-in visits of a location-day, provider and kind of visit waited
    `minute` whole minutes at one stage (medians cannot be summed, histograms can: the
    wait-times report takes its percentiles, exact to the minute, from the summed counts).
    Stage 'arrived' counts the checked-in visits at minute 0."""

    day = models.DateField()
    location_id = models.UUIDField()
    provider_id = models.UUIDField()
    appointment_type_id = models.UUIDField()
    procedure_type_id = models.UUIDField(null=True)
    stage = models.CharField(max_length=8)
    minute = models.IntegerField()
    visits = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["day", "location_id"], name="visitwaitminute_day_idx")]

    def __str__(self) -> str:
        return f"{self.visits} waits of {self.minute} min ({self.stage}) on {self.day}"


class MessageDay(models.Model):
    """Messages due on one local day at one location (or none), by kind and channel."""

    day = models.DateField()
    location_id = models.UUIDField(null=True)
    kind = models.CharField(max_length=32)
    channel = models.CharField(max_length=8)
    messages = models.IntegerField()
    sent = models.IntegerField()
    failed = models.IntegerField()
    cancelled = models.IntegerField()
    waiting = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["day", "location_id"], name="messageday_day_idx")]

    def __str__(self) -> str:
        return f"Messages of {self.day}"


class OutcomePoint(models.Model):
    """One procedure at one follow-up point: the outcome nearest the point's day (if any),
    and the ODI and NDI before the procedure and nearest the point; with the procedure's own
    figures, the same on its three rows (one table: the registry reads a row per procedure
    and point, 200,000 at full size, without a join)."""

    record_id = models.UUIDField()
    patient_id = models.UUIDField()
    day = models.DateField(db_index=True)
    location_id = models.UUIDField()
    performer_id = models.UUIDField()
    procedure_type_id = models.UUIDField()
    performed_at = models.DateTimeField()
    pre_nrs = models.SmallIntegerField()
    complication = models.BooleanField()
    surveys_sent = models.IntegerField()
    surveys_answered = models.IntegerField()
    point = models.CharField(max_length=2)
    nrs = models.SmallIntegerField(null=True)
    percent_relief = models.DecimalField(max_digits=5, decimal_places=1, null=True)
    pgic = models.SmallIntegerField(null=True)
    odi_baseline = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    odi_follow_up = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    ndi_baseline = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    ndi_follow_up = models.DecimalField(max_digits=6, decimal_places=2, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_id", "point"], name="outcomepoint_unique")
        ]

    def __str__(self) -> str:
        return f"Outcome of {self.record_id} at {self.point}"
