import uuid

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from clinic.audit.reads import PatientData
from clinic.audit.writes import row_events
from clinic.core.db import choice_check
from clinic.core.translated import in_language
from sites.models import RoomKind

from .cpt import CPT_PATTERN


class BleedingRisk(models.TextChoices):
    """ASRA 2018 (Narouze et al.) procedure bleeding-risk classes."""

    LOW = "low", "Low"
    INTERMEDIATE = "intermediate", "Intermediate"
    HIGH = "high", "High"


class Usage(models.TextChoices):
    YES = "yes", "Yes"
    OPTIONAL = "optional", "Optional"
    NO = "no", "No"


class Sedation(models.TextChoices):
    NONE = "none", "None (local anaesthetic)"
    OPTIONAL = "optional", "Sometimes (moderate sedation if documented)"
    USUAL = "usual", "Usually moderate sedation"
    GENERAL = "general", "MAC or general anaesthesia"


class Purpose(models.TextChoices):
    DIAGNOSTIC = "diagnostic", "Diagnostic"
    THERAPEUTIC = "therapeutic", "Therapeutic"
    BOTH = "both", "Diagnostic and therapeutic"


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Bilateral"
    NOT_APPLICABLE = "", "Not applicable"


# Every edit of a rule value is kept (docs/decisions/0025): database triggers store the row as it
# was and as it became on each update ("change_from", "change_to"), and each insert and delete,
# with the context the admin sets (who, which page). `updated_at` alone is not an edit.
@pghistory.track(*row_events())
class ProcedureType(models.Model):
    """One catalog entry, loaded from procedures.csv; managers edit it in the admin."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=160)
    name_es = models.CharField(
        "name in Spanish",
        max_length=160,
        blank=True,
        help_text="What Spanish-speaking patients read; when blank they read the English name.",
    )
    family = models.CharField(max_length=40, help_text="e.g. esi, mbb, rfa, si, tpi")
    region = models.CharField(
        max_length=40, help_text="Body region for payer limits, e.g. lumbar_sacral, knee."
    )
    imaging = models.CharField(max_length=200, blank=True)
    steroid = models.CharField(max_length=10, choices=Usage.choices, default=Usage.NO)
    nonparticulate_steroid_only = models.BooleanField(
        default=False, help_text="Only a non-particulate steroid (dexamethasone) may be used."
    )
    contrast = models.CharField(max_length=10, choices=Usage.choices, default=Usage.NO)
    sedation = models.CharField(max_length=10, choices=Sedation.choices, default=Sedation.NONE)
    needs_driver = models.BooleanField(default=False)
    fasting_hours = models.PositiveSmallIntegerField(
        default=0, help_text="Hours without solid food before; 0 when no fasting is needed."
    )
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    bleeding_risk = models.CharField(max_length=12, choices=BleedingRisk.choices)
    default_minutes = models.PositiveSmallIntegerField(help_text="Room time for one level.")
    minutes_per_extra_level = models.PositiveSmallIntegerField(default=0)
    turnover_minutes = models.PositiveSmallIntegerField(default=10)
    room_kind = models.CharField(max_length=32, choices=RoomKind.choices)
    side_applies = models.BooleanField(default=False)
    levels_apply = models.BooleanField(default=False)
    allowed_levels = ArrayField(models.CharField(max_length=8), default=list, blank=True)
    max_levels = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Most levels in one session; empty for no limit."
    )
    follow_up_plan = models.JSONField(
        default=dict,
        blank=True,
        help_text="next_day_check, pain_diary_hours, outcome_survey_days, wound_check_days.",
    )
    follow_up_notes = models.TextField(blank=True)
    preparation = models.TextField(
        blank=True, help_text="What the patient is told to do before; shown to patients."
    )
    preparation_es = models.TextField(
        "preparation in Spanish",
        blank=True,
        help_text="The preparation for Spanish-speaking patients; when blank they read the English.",
    )
    uncertain_fields = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    source_note = models.TextField(blank=True)
    consent_risks = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="The risks a clinician discusses when taking consent (procedures/consent.py).",
    )
    is_active = models.BooleanField(default=True)

    providers = models.ManyToManyField(
        "sites.Provider",
        related_name="procedure_types",
        blank=True,
        db_table="scheduling_provider_procedure_types",
        help_text="The providers who perform this procedure.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            choice_check("steroid", Usage, "proceduretype_steroid_valid"),
            choice_check("contrast", Usage, "proceduretype_contrast_valid"),
            choice_check("sedation", Sedation, "proceduretype_sedation_valid"),
            choice_check("purpose", Purpose, "proceduretype_purpose_valid"),
            choice_check("bleeding_risk", BleedingRisk, "proceduretype_risk_valid"),
            choice_check("room_kind", RoomKind, "proceduretype_room_valid"),
            models.CheckConstraint(
                condition=models.Q(default_minutes__gt=0), name="proceduretype_minutes_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def localized_name(self) -> str:
        """The name in the reader's language (patients' pages and messages)."""
        return in_language(self.name, self.name_es)

    @property
    def localized_preparation(self) -> str:
        return in_language(self.preparation, self.preparation_es)

    def minutes_for(self, level_count: int) -> int:
        extra = max(level_count - 1, 0) * self.minutes_per_extra_level
        return self.default_minutes + extra

    @property
    def primary_cpt(self) -> "ProcedureCode | None":
        """The code billed first: the first code that is not an add-on."""
        return next((code for code in self.procedure_codes.all() if not code.add_on), None)


cpt_code = RegexValidator(
    rf"^{CPT_PATTERN}$", "A CPT code is 5 characters: 4 digits and a digit, F or T."
)
cpt_modifier = RegexValidator(r"^[A-Z0-9]{2}$", "A modifier is 2 letters or digits, e.g. 50, RT.")


@pghistory.track(*row_events())
class ProcedureCode(models.Model):
    """One CPT code a catalog procedure is billed with (procedures/data/extra/cpt_codes.csv)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    procedure_type = models.ForeignKey(
        ProcedureType, on_delete=models.CASCADE, related_name="procedure_codes"
    )
    position = models.PositiveSmallIntegerField(default=0)
    code = models.CharField("CPT code", max_length=5, validators=[cpt_code])
    description = models.CharField(max_length=200, blank=True)
    add_on = models.BooleanField(
        default=False, help_text="Billed only with a primary code (e.g. each additional level)."
    )
    modifiers = ArrayField(
        models.CharField(max_length=2, validators=[cpt_modifier]),
        default=list,
        blank=True,
        help_text="Modifiers billed with this code, e.g. KX, 50, RT, LT.",
    )
    certain = models.BooleanField(
        default=True, help_text="Unchecked until a clinician or coder confirms the code."
    )
    note = models.CharField(max_length=300, blank=True, help_text="Where the code comes from.")

    class Meta:
        ordering = ["procedure_type", "position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure_type", "code"], name="procedurecode_once_per_type"
            ),
            models.CheckConstraint(
                condition=models.Q(code__regex=rf"^{CPT_PATTERN}$"), name="procedurecode_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}{' (add-on)' if self.add_on else ''}"


@pghistory.track(*row_events(), exclude=["updated_at"])
class SafetyThreshold(models.Model):
    """A number the safety check uses, with its source. Never a literal in code."""

    key = models.SlugField(max_length=60, primary_key=True)
    value = models.DecimalField(max_digits=8, decimal_places=2)
    unit = models.CharField(max_length=30)
    description = models.CharField(max_length=300)
    source = models.CharField(max_length=200)
    certain = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key} = {self.value} {self.unit}"


class PayerRuleKey(models.TextChoices):
    """The rule values a payer's own policy may set; a payer without a row for one keeps the
    Medicare LCD value (SafetyThreshold). The short ESI window exists only in payer rules."""

    ESI_MAX_SESSIONS = "esi_max_sessions", "ESI sessions per region in the window"
    ESI_RETRY_MIN_DAYS = "esi_retry_min_days", "Least days between ESI sessions in a region"
    ESI_REPEAT_MIN_RELIEF = "esi_repeat_min_relief", "Relief needed before a repeat ESI (%)"
    ESI_REPEAT_MIN_DAYS = "esi_repeat_min_days", "Days that relief must have lasted"
    ESI_SHORT_WINDOW_DAYS = "esi_short_window_days", "A second, shorter ESI window (days)"
    ESI_SHORT_WINDOW_MAX = (
        "esi_short_window_max_sessions",
        "ESI sessions per region in the shorter window",
    )
    FACET_MAX_DIAGNOSTIC = "facet_max_diagnostic", "Diagnostic MBB sessions in the window"
    FACET_MAX_THERAPEUTIC = "facet_max_therapeutic", "Therapeutic facet sessions in the window"
    RFA_MAX_SESSIONS = "rfa_max_sessions", "Facet RFA sessions in the window"
    RFA_REPEAT_MIN_RELIEF = "rfa_repeat_min_relief", "Improvement needed before a repeat RFA (%)"
    RFA_REPEAT_MIN_DAYS = "rfa_repeat_min_days", "Days that improvement must have lasted"
    MBB_POSITIVE_RELIEF = "mbb_positive_relief", "Relief that makes an MBB positive (%)"
    MBB_BLOCKS_FOR_RFA = "mbb_positive_blocks_for_rfa", "Positive MBBs needed before RFA"
    MBB_SECOND_BLOCK_DAYS = "mbb_second_block_min_days", "Days between the diagnostic blocks"
    SI_MAX_DIAGNOSTIC = "si_max_diagnostic", "Diagnostic SI sessions in the window"
    SI_MAX_THERAPEUTIC = "si_max_therapeutic", "Therapeutic SI sessions in the window"
    SI_POSITIVE_RELIEF = "si_positive_relief", "Relief that makes an SI block positive (%)"
    TPI_MAX_SESSIONS = "tpi_max_sessions", "Trigger point sessions in the window"
    FREQUENCY_WINDOW_DAYS = "frequency_window_days", "The rolling window for session limits"


@pghistory.track(*row_events(), exclude=["updated_at"])
class PayerRule(models.Model):
    """One value of a payer's rule set that differs from the Medicare LCD rules (for example
    a private payer's ESI interval), with the policy it comes from. Managers edit these."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payer = models.ForeignKey("patients.Payer", on_delete=models.CASCADE, related_name="rules")
    key = models.CharField(max_length=60, choices=PayerRuleKey.choices)
    value = models.DecimalField(max_digits=8, decimal_places=2)
    source = models.CharField(max_length=200, help_text="The payer's policy, as findings name it.")
    certain = models.BooleanField(default=False)
    note = models.TextField(blank=True, help_text="The policy's own wording.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["payer", "key"]
        constraints = [
            models.UniqueConstraint(fields=["payer", "key"], name="payer_rule_once_per_key"),
            choice_check("key", PayerRuleKey, "payer_rule_key_valid"),
            models.CheckConstraint(
                condition=models.Q(value__gte=0), name="payer_rule_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} = {self.value}"


class Severity(models.TextChoices):
    BLOCK = "block", "Block (a clinician must override it)"
    WARN = "warn", "Warning"
    INFO = "info", "Information"


@pghistory.track(*row_events(), exclude=["updated_at"])
class SafetyRule(models.Model):
    """A chart-driven safety rule (an allergy, condition, device or medication before some
    procedures): its severity, advice and source, editable by a manager. When it applies
    is the rule's code in procedures/safety.py, described in `applies_when`."""

    key = models.CharField(max_length=60, primary_key=True)
    applies_when = models.CharField(max_length=300, help_text="When the safety check uses it.")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    advice = models.TextField(help_text="What the finding tells the clinician, and why.")
    until = models.CharField(
        max_length=200,
        blank=True,
        help_text='Until when the finding stands, read after "Until": for example "the '
        'infection is treated". Empty: it does not expire (a lasting allergy).',
    )
    action = models.TextField(help_text="What the clinician does about it.")
    source = models.CharField(max_length=200)
    certain = models.BooleanField(
        default=True, help_text="Unticked until a clinician confirms it against the source."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [choice_check("severity", Severity, "safetyrule_severity_valid")]

    def __str__(self) -> str:
        return self.key


class HoldDecision(models.TextChoices):
    HOLD = "hold", "Hold"
    SHARED = "shared_decision", "Shared decision with the prescriber"
    NO_HOLD = "no_hold", "No hold"


@pghistory.track(*row_events())
class AnticoagulantRule(models.Model):
    """How long before a procedure a drug is held, by bleeding-risk class (ASRA 2018)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    drug = models.CharField(max_length=120, unique=True)
    drug_class = models.CharField(max_length=32)
    match_names = ArrayField(
        models.CharField(max_length=60),
        help_text="Lower-case names that identify the drug in a medication list.",
    )
    high_decision = models.CharField(max_length=16, choices=HoldDecision.choices)
    high_hours = models.PositiveIntegerField(null=True, blank=True)
    intermediate_decision = models.CharField(max_length=16, choices=HoldDecision.choices)
    intermediate_hours = models.PositiveIntegerField(null=True, blank=True)
    low_decision = models.CharField(max_length=16, choices=HoldDecision.choices)
    low_hours = models.PositiveIntegerField(null=True, blank=True)
    requires_normal_inr = models.BooleanField(default=False)
    restart_after = models.CharField(max_length=120, blank=True)
    note = models.TextField(blank=True, help_text="The source's wording, ranges included.")
    source = models.CharField(max_length=120)
    certain = models.BooleanField(default=True)

    class Meta:
        ordering = ["drug"]
        constraints = [
            choice_check(f"{risk}_decision", HoldDecision, f"anticoagulant_{risk}_valid")
            for risk in ("high", "intermediate", "low")
        ]

    def __str__(self) -> str:
        return self.drug

    def hold_for(self, risk: str) -> tuple[str, int | None]:
        return getattr(self, f"{risk}_decision"), getattr(self, f"{risk}_hours")


@pghistory.track(*row_events())
class Steroid(models.Model):
    """Corticosteroids given in injections, with methylprednisolone equivalence."""

    name = models.CharField(max_length=40, primary_key=True)
    methylprednisolone_factor = models.DecimalField(
        max_digits=6, decimal_places=3, help_text="mg of methylprednisolone per mg of this."
    )
    max_dose_per_session_mg = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    particulate = models.BooleanField(default=True)
    source = models.CharField(max_length=200)
    certain = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Orders and performed procedures ---------------------------------------------------------

APPROVAL_NEEDS_NUMBER = "An approved prior authorization needs its number and its expiry date."
STEROID_NEEDS_DOSE = "Give the steroid dose in mg, or choose no steroid."

icd10 = RegexValidator(
    r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$", "Enter an ICD-10-CM code such as M54.16."
)


class OrderStatus(models.TextChoices):
    ORDERED = "ordered", "Ordered"
    AUTHORIZED = "authorized", "Authorized"
    SCHEDULED = "scheduled", "Scheduled"
    PERFORMED = "performed", "Performed"
    CANCELLED = "cancelled", "Cancelled"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    SOON = "soon", "Within two weeks"
    URGENT = "urgent", "Urgent"


class AuthStatus(models.TextChoices):
    """Prior authorization: pending (to request) -> requested -> approved or denied."""

    NOT_NEEDED = "not_needed", "Not needed"
    PENDING = "pending", "Pending"
    REQUESTED = "requested", "Requested from the payer"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"


@pghistory.track(*row_events())
class ProcedureOrder(PatientData):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="procedure_orders"
    )
    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices, blank=True)
    levels = ArrayField(models.CharField(max_length=8), default=list, blank=True)
    indication_code = models.CharField("ICD-10 code", max_length=8, validators=[icd10])
    indication_text = models.CharField(max_length=200)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    planned_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=OrderStatus.choices, default=OrderStatus.ORDERED
    )
    auth_status = models.CharField(
        "prior authorization", max_length=12, choices=AuthStatus.choices, default=AuthStatus.PENDING
    )
    auth_number = models.CharField(max_length=40, blank=True)
    auth_expires = models.DateField(null=True, blank=True)
    auth_requested_at = models.DateTimeField("authorization requested at", null=True, blank=True)
    auth_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="authorization requested by",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    findings = models.JSONField(default=list, blank=True, help_text="The last safety check.")
    checked_at = models.DateTimeField(null=True, blank=True)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    ordered_at = models.DateTimeField(auto_now_add=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True, help_text="Clinical notes; not shown to the front desk.")

    class Meta:
        ordering = ["-ordered_at"]
        # The order list's page (newest first) read from the index, not a sort of the table.
        indexes = [models.Index(fields=["-ordered_at"], name="order_newest_idx")]
        constraints = [
            choice_check("status", OrderStatus, "order_status_valid"),
            choice_check("auth_status", AuthStatus, "order_auth_valid"),
            choice_check("urgency", Urgency, "order_urgency_valid"),
            models.CheckConstraint(
                condition=~models.Q(auth_status="approved")
                | (~models.Q(auth_number="") & models.Q(auth_expires__isnull=False)),
                name="order_approval_has_number_and_expiry",
                violation_error_message=APPROVAL_NEEDS_NUMBER,
            ),
            models.CheckConstraint(
                condition=~models.Q(auth_status="requested")
                | models.Q(auth_requested_at__isnull=False),
                name="order_request_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.id}"


@pghistory.track(*row_events())
class SafetyOverride(models.Model):
    """A clinician's decision to go ahead despite a blocking finding."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(ProcedureOrder, on_delete=models.CASCADE, related_name="overrides")
    finding_code = models.CharField(max_length=80)
    reason = models.TextField()
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    overridden_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-overridden_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "finding_code"], name="override_once_per_finding"
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="override_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Override {self.finding_code}"


class Guidance(models.TextChoices):
    FLUOROSCOPY = "fluoroscopy", "Fluoroscopy"
    CT = "ct", "CT"
    ULTRASOUND = "ultrasound", "Ultrasound"
    LANDMARK = "landmark", "Landmark"


nrs_validators = [MinValueValidator(0), MaxValueValidator(10)]

PUMP_FILL_INCOMPLETE = (
    "A pump refill needs the reservoir volume, the concentration and the daily dose, each "
    "above zero and with its unit."
)


class ConcentrationUnit(models.TextChoices):
    MG_PER_ML = "mg/mL", "mg/mL"
    MCG_PER_ML = "mcg/mL", "mcg/mL"


class DoseUnit(models.TextChoices):
    MG_PER_DAY = "mg/day", "mg/day"
    MCG_PER_DAY = "mcg/day", "mcg/day"


@pghistory.track(*row_events())
class ProcedureRecord(PatientData):
    """A performed procedure, as the clinician recorded it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.OneToOneField(
        ProcedureOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="record"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="procedure_records"
    )
    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.PROTECT, related_name="+")
    performed_at = models.DateTimeField()
    performer = models.ForeignKey(
        "sites.Provider", on_delete=models.PROTECT, related_name="procedure_records"
    )
    location = models.ForeignKey(
        "sites.Location", on_delete=models.PROTECT, related_name="procedure_records"
    )
    side = models.CharField(max_length=10, choices=Side.choices, blank=True)
    levels = ArrayField(models.CharField(max_length=8), default=list, blank=True)
    guidance = models.CharField(max_length=12, choices=Guidance.choices)
    steroid = models.ForeignKey(Steroid, null=True, blank=True, on_delete=models.PROTECT)
    steroid_dose_mg = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    local_anaesthetic = models.CharField(max_length=120, blank=True)
    contrast = models.CharField(max_length=120, blank=True)
    contrast_volume_ml = models.DecimalField(
        "contrast volume (mL)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    fluoroscopy_seconds = models.PositiveIntegerField(
        "fluoroscopy time (seconds)", null=True, blank=True
    )
    fluoroscopy_dose_mgy = models.DecimalField(
        "fluoroscopy dose, reference air kerma (mGy)",
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    pre_nrs = models.PositiveSmallIntegerField(validators=nrs_validators)
    post_nrs = models.PositiveSmallIntegerField(validators=nrs_validators)
    complications = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    best_relief_percent = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Highest percent relief among the follow-ups (instruments.md).",
    )
    next_refill_due = models.DateField(
        null=True,
        blank=True,
        help_text="Intrathecal pumps: when the reservoir needs its next refill (from its volume "
        "and daily dose). The patient is reminded before it.",
    )
    # Intrathecal pump refills: what was filled and at which dose; the refill and alarm dates
    # are calculated from them (procedures/pumps.py).
    pump_reservoir_ml = models.DecimalField(
        "reservoir volume (mL)", max_digits=6, decimal_places=2, null=True, blank=True
    )
    pump_concentration = models.DecimalField(
        "drug concentration", max_digits=10, decimal_places=4, null=True, blank=True
    )
    pump_concentration_unit = models.CharField(
        max_length=8, choices=ConcentrationUnit.choices, blank=True
    )
    pump_daily_dose = models.DecimalField(
        "daily dose", max_digits=10, decimal_places=4, null=True, blank=True
    )
    pump_dose_unit = models.CharField(max_length=8, choices=DoseUnit.choices, blank=True)
    pump_alarm_date = models.DateField(
        "low-reservoir alarm date",
        null=True,
        blank=True,
        help_text="When the pump's low-reservoir alarm is expected to sound.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_at"]
        indexes = [
            models.Index(fields=["patient", "-performed_at"], name="record_patient_idx"),
            # The record list's page (newest first) read from the index, not a sort of the table.
            models.Index(fields=["-performed_at"], name="record_newest_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pre_nrs__lte=10), name="record_pre_nrs_range"
            ),
            models.CheckConstraint(
                condition=models.Q(post_nrs__lte=10), name="record_post_nrs_range"
            ),
            models.CheckConstraint(
                condition=models.Q(steroid__isnull=True, steroid_dose_mg__isnull=True)
                | models.Q(steroid__isnull=False, steroid_dose_mg__gt=0),
                name="record_steroid_has_dose",
                violation_error_message=STEROID_NEEDS_DOSE,
            ),
            choice_check("guidance", Guidance, "record_guidance_valid"),
            models.CheckConstraint(
                condition=models.Q(
                    pump_reservoir_ml__isnull=True,
                    pump_concentration__isnull=True,
                    pump_daily_dose__isnull=True,
                    pump_concentration_unit="",
                    pump_dose_unit="",
                )
                | models.Q(
                    pump_reservoir_ml__gt=0,
                    pump_concentration__gt=0,
                    pump_daily_dose__gt=0,
                    pump_concentration_unit__in=ConcentrationUnit.values,
                    pump_dose_unit__in=DoseUnit.values,
                ),
                name="record_pump_fill_complete",
                violation_error_message=PUMP_FILL_INCOMPLETE,
            ),
        ]

    def __str__(self) -> str:
        return f"Procedure record {self.id}"


@pghistory.track(*row_events())
class ProcedureOutcome(models.Model):
    """A follow-up pain score after a procedure, and its percent relief from the baseline."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    record = models.ForeignKey(ProcedureRecord, on_delete=models.CASCADE, related_name="outcomes")
    measured_at = models.DateTimeField()
    nrs = models.PositiveSmallIntegerField(validators=nrs_validators)
    pgic = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    percent_relief = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    source = models.CharField(max_length=16, default="clinic")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["measured_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(nrs__lte=10), name="outcome_nrs_range"),
        ]

    def __str__(self) -> str:
        return f"Outcome {self.id}"


# --- Consent and the signed procedure note (docs/decisions/0041) -------------------------------


class ChangedBesidesPatient(pgtrigger.Condition):
    """A trigger condition: a column other than the patient's changed (and `also`, when given,
    holds). A patient merge moves locked rows to the surviving record (patients.services);
    nothing else may change them."""

    def __init__(self, also: pgtrigger.Q | None = None):
        self.also = also
        self.sql = "resolved per model"

    def resolve(self, model: type[models.Model]) -> str:
        changed = pgtrigger.AnyChange(exclude=["patient"]).resolve(model)
        # WHEN needs the whole condition in parentheses.
        return f"(({self.also.resolve(model)}) AND ({changed}))" if self.also else f"({changed})"


def locked_rows(name: str, *, when: pgtrigger.Q | None = None) -> list[pgtrigger.Trigger]:
    """Triggers refusing to change (beyond a patient merge) or delete a row (when `when`)."""
    return [
        pgtrigger.Protect(
            name=f"{name}_update", operation=pgtrigger.Update, condition=ChangedBesidesPatient(when)
        ),
        pgtrigger.Protect(name=f"{name}_delete", operation=pgtrigger.Delete, condition=when),
    ]


class ConsentGiver(models.TextChoices):
    PATIENT = "patient", "The patient"
    REPRESENTATIVE = "representative", "A legal representative"


@pghistory.track(*row_events())
class ProcedureConsent(PatientData):
    """Informed consent for an ordered procedure, taken before it: who gave it, who took it,
    when, and which of the catalog's risks were discussed. Rows are never changed: a consent
    taken again is a new row, and the latest one before the procedure counts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(ProcedureOrder, on_delete=models.PROTECT, related_name="consents")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="procedure_consents"
    )
    given_by = models.CharField(
        "consent given by", max_length=16, choices=ConsentGiver.choices, default="patient"
    )
    representative_name = models.CharField(max_length=120, blank=True)
    representative_relationship = models.CharField(max_length=60, blank=True)
    risks_discussed = ArrayField(models.CharField(max_length=200))
    other_risks = models.TextField("other risks discussed", blank=True)
    alternatives_discussed = models.BooleanField(default=False)
    questions_answered = models.BooleanField(default=False)
    obtained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    obtained_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-obtained_at"]
        indexes = [models.Index(fields=["order", "-obtained_at"], name="consent_order_idx")]
        constraints = [
            choice_check("given_by", ConsentGiver, "consent_given_by_valid"),
            models.CheckConstraint(
                condition=models.Q(risks_discussed__len__gt=0), name="consent_names_risks"
            ),
            models.CheckConstraint(
                condition=models.Q(given_by="patient") | ~models.Q(representative_name=""),
                name="consent_representative_named",
            ),
        ]
        triggers = locked_rows("consent_kept")

    def __str__(self) -> str:
        return f"Consent {self.id}"


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


# The note's sections in the order it prints them, with their headings.
NOTE_SECTIONS = (
    ("indication", "Indication"),
    ("consent_summary", "Consent"),
    ("time_out", "Time-out"),
    ("technique", "Technique"),
    ("levels", "Levels and side"),
    ("medications", "Medications and doses"),
    ("imaging", "Fluoroscopy and contrast"),
    ("complications", "Complications"),
    ("disposition", "Disposition"),
    ("follow_up_plan", "Follow-up plan"),
)


@pghistory.track(*row_events())
class ProcedureNote(PatientData):
    """The physician's note of a performed procedure, prefilled from the record, its order and
    its consent, reviewed and signed. PostgreSQL refuses any change to a signed note (and its
    deletion): after signing it changes only by an addendum."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    record = models.OneToOneField(ProcedureRecord, on_delete=models.PROTECT, related_name="note")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="procedure_notes"
    )
    indication = models.TextField(blank=True)
    consent_summary = models.TextField("consent", blank=True)
    time_out = models.TextField("time-out", blank=True)
    technique = models.TextField(blank=True)
    levels = models.TextField("levels and side", blank=True)
    medications = models.TextField("medications and doses", blank=True)
    imaging = models.TextField("fluoroscopy and contrast", blank=True)
    complications = models.TextField(blank=True)
    disposition = models.TextField(blank=True)
    follow_up_plan = models.TextField("follow-up plan", blank=True)
    status = models.CharField(max_length=8, choices=NoteStatus.choices, default="draft")
    consent = models.ForeignKey(
        ProcedureConsent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consent_override_reason = models.TextField(
        blank=True, help_text="Why the note was signed without a consent on record."
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signer_name = models.CharField(max_length=150, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            choice_check("status", NoteStatus, "note_status_valid"),
            models.CheckConstraint(
                condition=models.Q(status="draft", signed_by__isnull=True, signed_at__isnull=True)
                | models.Q(status="signed", signed_by__isnull=False, signed_at__isnull=False),
                name="note_signed_has_signer_and_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="signed")
                | models.Q(consent__isnull=False)
                | ~models.Q(consent_override_reason=""),
                name="note_signed_has_consent_or_reason",
            ),
        ]
        triggers = locked_rows("signed_note_locked", when=pgtrigger.Q(old__status="signed"))

    def __str__(self) -> str:
        return f"Procedure note {self.id}"

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED

    def sections(self) -> list[tuple[str, str, str]]:
        """(field, heading, text) for each section, in print order."""
        return [(name, heading, getattr(self, name)) for name, heading in NOTE_SECTIONS]


@pghistory.track(*row_events())
class NoteAddendum(PatientData):
    """A later addition to a signed note: what, why, who and when. Never changed or deleted;
    PostgreSQL also refuses one for a note that is not signed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    note = models.ForeignKey(ProcedureNote, on_delete=models.PROTECT, related_name="addenda")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="procedure_note_addenda"
    )
    text = models.TextField()
    reason = models.CharField(max_length=300)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    writer_name = models.CharField(max_length=150)
    written_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["written_at"]
        verbose_name_plural = "note addenda"
        constraints = [
            models.CheckConstraint(condition=~models.Q(text=""), name="addendum_has_text"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="addendum_has_reason"),
        ]
        triggers = [
            *locked_rows("addendum_kept"),
            pgtrigger.Trigger(
                name="addendum_only_to_signed_note",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                func=(
                    "IF NOT EXISTS (SELECT 1 FROM procedures_procedurenote "
                    "WHERE id = NEW.note_id AND status = 'signed') THEN "
                    "RAISE EXCEPTION 'An addendum is added to a signed note only.' "
                    "USING ERRCODE = 'check_violation'; END IF; RETURN NEW;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum {self.id}"
