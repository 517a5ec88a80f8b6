import uuid
from datetime import date

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from localflavor.us.models import USStateField, USZipCodeField

from clinic.audit.reads import PatientData
from clinic.audit.writes import row_events
from clinic.core.db import choice_check

from .icd10 import ICD10_PATTERN, icd10_format, list_flag
from .instruments import Instrument

# --- Choices ----------------------------------------------------------------------------

ZIP_PATTERN = r"^\d{5}(-\d{4})?$"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DECEASED = "deceased", "Deceased"


class ContactChannel(models.TextChoices):
    SMS = "sms", _("Text message")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")


class Language(models.TextChoices):
    """The language of the patient's pages and messages; each named in its own language."""

    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class BodyRegion(models.TextChoices):
    """Where pain is felt; NRS scores are kept per region."""

    HEAD = "head", _("Head")
    NECK = "neck", _("Neck")
    UPPER_BACK = "upper_back", _("Upper or mid back")
    LOW_BACK = "low_back", _("Low back")
    SACROILIAC = "sacroiliac", _("Sacroiliac or buttock")
    SHOULDER = "shoulder", _("Shoulder")
    ARM = "arm", _("Arm or hand")
    HIP = "hip", _("Hip")
    LEG = "leg", _("Leg or foot")
    KNEE = "knee", _("Knee")
    ABDOMEN = "abdomen", _("Abdomen")
    PELVIS = "pelvis", _("Pelvis")
    WIDESPREAD = "widespread", _("Widespread")
    OTHER = "other", _("Other")


class EntrySource(models.TextChoices):
    STAFF = "staff", "Entered by staff"
    INTAKE = "intake", "Accepted from an intake"
    PATIENT = "patient", "Entered by the patient"
    FOLLOW_UP = "follow_up", "Follow-up survey"


class AllergySeverity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    ANAPHYLAXIS = "anaphylaxis", "Anaphylaxis"
    UNKNOWN = "unknown", "Unknown"


class ProcedureAllergyClass(models.TextChoices):
    """Allergy classes that change how a procedure is done (intake.md)."""

    NONE = "", "Not procedure-relevant"
    IODINATED_CONTRAST = "iodinated_contrast", "Iodinated contrast"
    LATEX = "latex", "Latex"
    LOCAL_ANAESTHETIC = "local_anaesthetic", "Local anaesthetic"
    CORTICOSTEROID = "corticosteroid", "Corticosteroid"
    CHLORHEXIDINE = "chlorhexidine", "Chlorhexidine"
    BONE_CEMENT = "bone_cement", "Bone cement or opacifier"


class DrugClass(models.TextChoices):
    """Medication classes; the first eight are those of anticoagulants.csv (ASRA 2018)."""

    ANTIPLATELET = "antiplatelet", "Antiplatelet"
    NSAID = "nsaid", "NSAID"
    VITAMIN_K_ANTAGONIST = "vitamin_k_antagonist", "Vitamin K antagonist"
    HEPARIN = "heparin", "Heparin (unfractionated)"
    LMWH = "lmwh", "Low-molecular-weight heparin"
    P2Y12_INHIBITOR = "p2y12_inhibitor", "P2Y12 inhibitor"
    DOAC = "doac", "Direct oral anticoagulant"
    FACTOR_XA_INHIBITOR = "factor_xa_inhibitor", "Factor Xa inhibitor (parenteral)"
    OPIOID = "opioid", "Opioid"
    GABAPENTINOID = "gabapentinoid", "Gabapentinoid"
    MUSCLE_RELAXANT = "muscle_relaxant", "Muscle relaxant"
    ANTIDEPRESSANT = "antidepressant", "Antidepressant"
    CORTICOSTEROID = "corticosteroid", "Corticosteroid"
    ANTIDIABETIC = "antidiabetic", "Insulin or other antidiabetic"
    # Classes of the drug vocabulary (vocabulary/drug_names.csv) beyond anticoagulants.csv.
    PAR1_ANTAGONIST = "par1_antagonist", "PAR-1 antagonist (vorapaxar)"
    GP2B3A_INHIBITOR = "gp2b3a_inhibitor", "GP IIb/IIIa inhibitor"
    COX2_INHIBITOR = "cox2_inhibitor", "COX-2 inhibitor"
    SSRI = "ssri", "SSRI antidepressant"
    SNRI = "snri", "SNRI antidepressant"
    SUPPLEMENT = "supplement", "Supplement (fish oil, herbal)"
    OTHER = "other", "Other"
    UNCLASSIFIED = "", "Not classified yet"


# Classes whose holds the safety check computes (anticoagulants.csv).
BLEEDING_RISK_CLASSES = frozenset(
    {
        DrugClass.ANTIPLATELET,
        DrugClass.NSAID,
        DrugClass.VITAMIN_K_ANTAGONIST,
        DrugClass.HEPARIN,
        DrugClass.LMWH,
        DrugClass.P2Y12_INHIBITOR,
        DrugClass.DOAC,
        DrugClass.FACTOR_XA_INHIBITOR,
        DrugClass.PAR1_ANTAGONIST,
        DrugClass.GP2B3A_INHIBITOR,
    }
)


class Classification(models.TextChoices):
    """How a medication's generic(s) and class(es) were found."""

    VOCABULARY = "vocabulary", "Recognised from the drug vocabulary"
    CLINICIAN = "clinician", "Classified by a clinician"
    UNRECOGNISED = "unrecognised", "Unrecognised — clinician to classify"


class Indication(models.TextChoices):
    """Why a medication is taken, where that changes the hold rule (ASRA 2018, N18)."""

    UNKNOWN = "", "Not recorded"
    PRIMARY_PREVENTION = "primary_prevention", "Primary prevention"
    SECONDARY_PREVENTION = (
        "secondary_prevention",
        "Secondary prevention (stent, stroke, heart attack)",
    )
    PROPHYLACTIC_DOSE = "prophylactic_dose", "Prophylactic dose"
    THERAPEUTIC_DOSE = "therapeutic_dose", "Therapeutic dose"


class NameKind(models.TextChoices):
    BRAND = "brand", "Brand"
    COMBINATION = "combination", "Combination product"
    GENERIC = "generic", "Generic or common name"


class LabKind(models.TextChoices):
    INR = "inr", "INR"
    PLATELETS = "platelets", "Platelet count"
    CREATININE = "creatinine", "Creatinine"
    EGFR = "egfr", "eGFR"
    CRCL = "crcl", "Creatinine clearance (CrCl)"


# The unit each lab is recorded in; the rules compare values in these units.
LAB_UNITS: dict[str, str] = {
    LabKind.INR: "ratio",
    LabKind.PLATELETS: "10^9/L",
    LabKind.CREATININE: "mg/dL",
    LabKind.EGFR: "mL/min/1.73m2",
    LabKind.CRCL: "mL/min",
}


class ConditionKind(models.TextChoices):
    DIABETES = "diabetes", "Diabetes"
    PREGNANCY = "pregnancy", "Pregnancy"
    PACEMAKER_ICD = "pacemaker_icd", "Pacemaker or ICD"
    ACTIVE_INFECTION = "active_infection", "Active infection"
    BLEEDING_DISORDER = "bleeding_disorder", "Bleeding disorder"
    CANCER_HISTORY = "cancer_history", "History of cancer"
    OTHER = "other", "Other"


class DeviceKind(models.TextChoices):
    PACEMAKER = "pacemaker", "Pacemaker"
    ICD = "icd", "Implantable cardioverter-defibrillator"
    SPINAL_CORD_STIMULATOR = "spinal_cord_stimulator", "Spinal cord stimulator"
    INTRATHECAL_PUMP = "intrathecal_pump", "Intrathecal pump"
    PERIPHERAL_NERVE_STIMULATOR = "peripheral_nerve_stimulator", "Peripheral nerve stimulator"
    OTHER = "other", "Other"


# --- Payers ---------------------------------------------------------------------------


class PayerKind(models.TextChoices):
    MEDICARE = "medicare", "Medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage", "Medicare Advantage"
    COMMERCIAL = "commercial", "Commercial"
    WORKERS_COMP = "workers_comp", "Workers' compensation"
    OTHER = "other", "Other"


class Payer(models.Model):
    """Who pays for a patient's procedures. Its rule set (procedures.PayerRule) overrides
    the Medicare LCD rules where the payer's own policy differs; managers edit both."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=PayerKind.choices)
    aliases = ArrayField(
        models.CharField(max_length=120),
        default=list,
        blank=True,
        help_text="Other names as written on insurance cards (lower case); used to match the "
        "free-text insurance company to this payer.",
    )
    is_active = models.BooleanField("active", default=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [choice_check("kind", PayerKind, "payer_kind_valid")]

    def __str__(self) -> str:
        return self.name


# --- The patient ------------------------------------------------------------------------


@pghistory.track(*row_events(), exclude=["updated_at"])
class Patient(PatientData):
    audit_patient_attname = "id"
    """A person the clinic treats: demographics, contact, consent and insurance."""

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
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = USStateField(blank=True, help_text="A US state or territory, as its postal code.")
    postal_code = USZipCodeField(
        "ZIP code",
        blank=True,
        validators=[
            RegexValidator(ZIP_PATTERN, _("Enter a ZIP code of 5 digits, or ZIP+4 (80210-1234)."))
        ],
    )
    preferred_channel = models.CharField(
        max_length=8, choices=ContactChannel.choices, default=ContactChannel.SMS
    )
    consent_sms = models.BooleanField("consents to text messages", default=False)
    consent_email = models.BooleanField("consents to email", default=False)
    language = models.CharField(
        max_length=2,
        choices=Language.choices,
        default=Language.ENGLISH,
        help_text="The language of the patient's pages, emails and text messages.",
    )

    emergency_contact_name = models.CharField(max_length=160, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=20, blank=True)

    insurance_payer = models.CharField(
        max_length=120, blank=True, help_text="The insurance company as written on the card."
    )
    payer = models.ForeignKey(
        Payer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patients",
        help_text="The payer whose rules the safety check applies; empty: Medicare LCD rules.",
    )
    insurance_member_id = models.CharField(max_length=60, blank=True)
    insurance_group = models.CharField(max_length=60, blank=True)

    referring_physician_name = models.CharField(max_length=160, blank=True)
    referring_physician_phone = models.CharField(max_length=20, blank=True)
    referring_physician_npi = models.CharField("referring physician NPI", max_length=10, blank=True)

    home_location = models.ForeignKey(
        "sites.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patients",
    )
    status = models.CharField(
        max_length=16, choices=PatientStatus.choices, default=PatientStatus.ACTIVE
    )
    needs_verification = models.BooleanField(
        default=False, help_text="Registered online; the front desk has not checked it yet."
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_records",
        help_text="Set when this record was merged into another; it is then inactive.",
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
            models.Index(fields=["phone"], name="patient_phone_idx"),
            # Phone endings ("the last four digits") are LIKE '%1234' searches.
            GinIndex(OpClass("phone", name="gin_trgm_ops"), name="patient_phone_trgm_idx"),
            models.Index(Upper("email"), name="patient_email_upper_idx"),
            # Substring name search (icontains compiles to UPPER(col) LIKE UPPER(...)).
            GinIndex(
                OpClass(Upper("legal_last_name"), name="gin_trgm_ops"),
                name="patient_last_trgm_idx",
            ),
            GinIndex(
                OpClass(Upper("legal_first_name"), name="gin_trgm_ops"),
                name="patient_first_trgm_idx",
            ),
            GinIndex(
                OpClass(Upper("preferred_name"), name="gin_trgm_ops"),
                name="patient_preferred_trgm_idx",
            ),
        ]
        constraints = [
            choice_check("status", PatientStatus, "patient_status_valid"),
            choice_check("sex", Sex, "patient_sex_valid"),
            choice_check("preferred_channel", ContactChannel, "patient_channel_valid"),
            choice_check("language", Language, "patient_language_valid"),
            models.CheckConstraint(
                condition=models.Q(date_of_birth__gte="1900-01-01"),
                name="patient_dob_after_1900",
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("id")), name="patient_not_merged_into_self"
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

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --- Clinical lists ---------------------------------------------------------------------


class ClinicalEntry(PatientData):
    """What every clinical list entry has: dates, who recorded it and from where."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True, help_text="Leave empty while current.")
    notes = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=EntrySource.choices, default=EntrySource.STAFF)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def entry_constraints(prefix: str) -> list:
    return [
        models.CheckConstraint(
            condition=models.Q(end_date__isnull=True)
            | models.Q(start_date__isnull=True)
            | models.Q(end_date__gte=models.F("start_date")),
            name=f"{prefix}_ends_after_start",
        ),
        choice_check("source", EntrySource, f"{prefix}_source_valid"),
    ]


@pghistory.track(*row_events(), exclude=["updated_at"])
class Allergy(ClinicalEntry):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="allergies")
    substance = models.CharField(max_length=120)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(
        max_length=16, choices=AllergySeverity.choices, default=AllergySeverity.UNKNOWN
    )
    procedure_class = models.CharField(
        max_length=32, choices=ProcedureAllergyClass.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["substance"]
        verbose_name_plural = "allergies"
        constraints = [
            *entry_constraints("allergy"),
            choice_check("severity", AllergySeverity, "allergy_severity_valid"),
            choice_check("procedure_class", ProcedureAllergyClass, "allergy_class_valid"),
        ]

    def __str__(self) -> str:
        return f"Allergy {self.id}"


class DrugName(models.Model):
    """The drug vocabulary: a brand, combination or common name and the generic(s) and
    class(es) it stands for (vocabulary/drug_names.csv, shipped with the catalog data)."""

    name = models.CharField(max_length=120, unique=True)
    key = models.CharField(
        max_length=120, unique=True, editable=False, help_text="The name without case or spacing."
    )
    generics = ArrayField(models.CharField(max_length=80))
    drug_classes = ArrayField(models.CharField(max_length=32, choices=DrugClass.choices))
    kind = models.CharField(max_length=16, choices=NameKind.choices)
    note = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=120)
    certain = models.BooleanField(
        default=True, help_text="Unticked until a clinician has confirmed this row."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [choice_check("kind", NameKind, "drugname_kind_valid")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        from .vocabulary import name_key

        self.key = name_key(self.name)
        super().save(*args, **kwargs)


@pghistory.track(*row_events(), exclude=["updated_at"])
class Medication(ClinicalEntry):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(max_length=120, help_text="As typed.")
    drug_class = models.CharField(
        max_length=32, choices=DrugClass.choices, blank=True, default=DrugClass.UNCLASSIFIED
    )
    dose = models.CharField(max_length=60, blank=True, help_text="e.g. 5 mg")
    frequency = models.CharField(max_length=60, blank=True, help_text="e.g. twice daily")
    generics = ArrayField(
        models.CharField(max_length=80),
        default=list,
        blank=True,
        help_text="The generic(s) the name resolves to; a combination product lists each.",
    )
    drug_classes = ArrayField(
        models.CharField(max_length=32, choices=DrugClass.choices),
        default=list,
        blank=True,
        help_text="The class(es) the safety check uses.",
    )
    classification = models.CharField(
        max_length=16, choices=Classification.choices, default=Classification.UNRECOGNISED
    )
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    classified_at = models.DateTimeField(null=True, blank=True)
    indication = models.CharField(
        max_length=24,
        choices=Indication.choices,
        blank=True,
        default=Indication.UNKNOWN,
        help_text="Aspirin: primary or secondary prevention; enoxaparin: prophylactic or "
        "therapeutic dose. Unknown takes the stricter hold.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            *entry_constraints("medication"),
            choice_check("drug_class", DrugClass, "medication_class_valid"),
            choice_check("classification", Classification, "medication_classification_valid"),
            choice_check("indication", Indication, "medication_indication_valid"),
        ]

    def __str__(self) -> str:
        return f"Medication {self.id}"

    @property
    def affects_bleeding(self) -> bool:
        classes = set(self.drug_classes) | {self.drug_class}
        return bool(classes & BLEEDING_RISK_CLASSES)

    @property
    def unrecognised(self) -> bool:
        return self.classification == Classification.UNRECOGNISED


@pghistory.track(*row_events())
class LabResult(PatientData):
    """A laboratory value the safety check reads: INR, platelets, kidney function."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="labs")
    kind = models.CharField(max_length=16, choices=LabKind.choices)
    value = models.DecimalField(max_digits=8, decimal_places=2)
    unit = models.CharField(max_length=20, help_text="The lab's unit (see LAB_UNITS).")
    taken_on = models.DateField()
    notes = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_on", "-recorded_at"]
        indexes = [models.Index(fields=["patient", "kind", "-taken_on"], name="lab_latest_idx")]
        constraints = [
            choice_check("kind", LabKind, "lab_kind_valid"),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="lab_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Lab {self.id}"


@pghistory.track(*row_events(), exclude=["updated_at"])
class Condition(ClinicalEntry):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="conditions")
    kind = models.CharField(max_length=24, choices=ConditionKind.choices)
    description = models.CharField(max_length=200, blank=True)
    icd10_code = models.CharField(
        "ICD-10-CM code",
        max_length=8,
        blank=True,
        validators=[icd10_format],
        help_text="A code outside the clinic's list is accepted and flagged for a second look.",
    )

    class Meta:
        ordering = ["kind"]
        constraints = [
            *entry_constraints("condition"),
            choice_check("kind", ConditionKind, "condition_kind_valid"),
            models.CheckConstraint(
                condition=~models.Q(kind="other") | ~models.Q(description=""),
                name="condition_other_is_described",
            ),
            models.CheckConstraint(
                condition=models.Q(icd10_code="") | models.Q(icd10_code__regex=ICD10_PATTERN),
                name="condition_icd10_format",
            ),
        ]

    def __str__(self) -> str:
        return f"Condition {self.id}"

    @property
    def icd10_flag(self) -> str:
        return list_flag(self.icd10_code)


@pghistory.track(*row_events(), exclude=["updated_at"])
class ImplantedDevice(ClinicalEntry):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(max_length=32, choices=DeviceKind.choices)
    description = models.CharField(max_length=200, blank=True)
    manufacturer = models.CharField(max_length=80, blank=True)
    model_name = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["kind"]
        constraints = [
            *entry_constraints("device"),
            choice_check("kind", DeviceKind, "device_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"Device {self.id}"


# --- Assessments ------------------------------------------------------------------------


@pghistory.track(*row_events())
class Assessment(PatientData):
    """One completed instrument: the item scores as answered and the computed result."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="assessments")
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    body_region = models.CharField(max_length=16, choices=BodyRegion.choices, blank=True)
    items = models.JSONField(help_text="Item scores as answered, keyed by item.")
    total = models.DecimalField(max_digits=6, decimal_places=2)
    band = models.CharField(max_length=32, blank=True)
    flags = models.JSONField(default=list, blank=True)
    taken_at = models.DateTimeField()
    source = models.CharField(max_length=16, choices=EntrySource.choices, default=EntrySource.STAFF)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_at"]
        indexes = [
            models.Index(
                fields=["patient", "instrument", "-taken_at"], name="assessment_latest_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(instrument="nrs") | ~models.Q(body_region=""),
                name="assessment_nrs_has_region",
            ),
            choice_check("source", EntrySource, "assessment_source_valid"),
        ]

    def __str__(self) -> str:
        return f"Assessment {self.id}"


# --- Urgent flags -----------------------------------------------------------------------


class UrgentSource(models.TextChoices):
    INTAKE = "intake", "Intake questionnaire"
    ASSESSMENT = "assessment", "Assessment"


@pghistory.track(*row_events())
class UrgentFlag(PatientData):
    """A danger sign a clinician must see the same day: PHQ-9 item 9 above 0 or a positive
    red flag (instruments.md; intake.md), from whichever path it came in. The patient is
    urgent while any flag is open; a flag closes only by a clinician's acknowledgement
    (patients.urgent.urgent_acknowledge), which keeps who, when and their note."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="urgent_flags")
    reason = models.CharField(
        max_length=60, help_text='"phq9_item9_positive" or "red_flag:<question>".'
    )
    detail = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=16, choices=UrgentSource.choices)
    assessment = models.ForeignKey(
        "Assessment", null=True, blank=True, on_delete=models.CASCADE, related_name="urgent_flags"
    )
    intake = models.ForeignKey(
        "IntakeSubmission",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="urgent_flags",
    )
    raised_at = models.DateTimeField()
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_via = models.CharField(max_length=16, blank=True, help_text="The actor's channel.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledgement_note = models.TextField(blank=True)

    class Meta:
        ordering = ["raised_at", "reason"]
        indexes = [
            models.Index(
                fields=["raised_at"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="urgent_open_idx",
            ),
            models.Index(fields=["patient", "-raised_at"], name="urgent_patient_idx"),
        ]
        constraints = [
            choice_check("source", UrgentSource, "urgent_source_valid"),
            models.CheckConstraint(
                condition=models.Q(
                    acknowledged_at__isnull=True,
                    acknowledged_by__isnull=True,
                    acknowledgement_note="",
                )
                | (
                    models.Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False)
                    & ~models.Q(acknowledgement_note="")
                ),
                name="urgent_acknowledged_by_whom_with_note",
            ),
            models.CheckConstraint(
                condition=models.Q(assessment__isnull=False) | models.Q(intake__isnull=False),
                name="urgent_has_origin",
            ),
        ]

    def __str__(self) -> str:
        return f"Urgent flag {self.id}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


# --- Intake -----------------------------------------------------------------------------


class IntakeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Waiting for review"
    REVIEWED = "reviewed", "Reviewed"


class IntakeItemKind(models.TextChoices):
    DEMOGRAPHIC = "demographic", "Demographics or insurance"
    ALLERGY = "allergy", "Allergy"
    MEDICATION = "medication", "Medication"
    CONDITION = "condition", "Condition"
    DEVICE = "device", "Implanted device"
    ASSESSMENT = "assessment", "Assessment"


class Decision(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


@pghistory.track(*row_events())
class IntakeSubmission(PatientData):
    """An intake questionnaire. Nothing in it reaches the chart until staff accept it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="intakes")
    status = models.CharField(
        max_length=16, choices=IntakeStatus.choices, default=IntakeStatus.SUBMITTED
    )
    answers = models.JSONField(
        default=dict,
        help_text="Chief complaint, pain locations, onset, treatments tried, red-flag screen.",
    )
    urgent = models.BooleanField(default=False)
    urgent_reasons = models.JSONField(default=list, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_by_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # While status is "draft" (the portal's step-by-step intake), the patient's answers so
    # far, one section per step, in the shapes intake_submit takes; and the step to resume.
    draft = models.JSONField(default=dict, blank=True)
    draft_step = models.CharField(max_length=24, blank=True)

    class Meta:
        ordering = ["-urgent", "submitted_at"]
        indexes = [
            models.Index(fields=["status", "-urgent", "submitted_at"], name="intake_queue_idx")
        ]
        constraints = [
            choice_check("status", IntakeStatus, "intake_status_valid"),
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(status="draft"),
                name="intake_one_draft_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"Intake {self.id}"


@pghistory.track(*row_events())
class IntakeItem(models.Model):
    """One proposed change to the chart, accepted or rejected on its own."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    submission = models.ForeignKey(IntakeSubmission, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=IntakeItemKind.choices)
    field = models.CharField(
        max_length=40, blank=True, help_text="The patient field, for demographics."
    )
    proposed = models.JSONField(help_text="The proposed value or list entry, as submitted.")
    chart_value_at_submission = models.JSONField(null=True, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    replaced_value = models.JSONField(
        null=True, blank=True, help_text="The chart value this item replaced when accepted."
    )
    created_record_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "field"]
        constraints = [
            choice_check("kind", IntakeItemKind, "intake_item_kind_valid"),
            choice_check("decision", Decision, "intake_item_decision_valid"),
            models.CheckConstraint(
                condition=models.Q(decision="pending") | models.Q(decided_by__isnull=False),
                name="intake_item_decision_attributed",
            ),
        ]

    def __str__(self) -> str:
        return f"Intake item {self.id}"


# --- Duplicates and merges --------------------------------------------------------------


class DuplicateStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Not a duplicate"
    MERGED = "merged", "Merged"


class DuplicateCandidate(PatientData):
    """Two records that may be the same person, waiting for staff to merge or dismiss."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    match = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    reasons = models.JSONField(default=list)
    name_similarity = models.FloatField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "match"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=~models.Q(patient=models.F("match")), name="duplicate_not_self"
            ),
            choice_check("status", DuplicateStatus, "duplicate_status_valid"),
        ]

    def __str__(self) -> str:
        return f"Possible duplicate {self.id}"


@pghistory.track(*row_events())
class PatientMerge(PatientData):
    audit_patient_attname = "survivor_id"
    """The record of a merge: who, when, what moved, and the merged record as it was."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survivor = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges")
    merged = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merged_away")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(auto_now_add=True)
    moved = models.JSONField(default=dict, help_text="Rows moved, per related table.")
    merged_snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"Merge {self.id}"
