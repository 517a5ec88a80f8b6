"""API shapes. Serializers check types; the services check the rules."""

from rest_framework import serializers

from clinic.core.bounds import NOTES_MAX
from clinic.users.models import User

from .instruments import Instrument
from .models import (
    Allergy,
    Assessment,
    BodyRegion,
    Condition,
    DuplicateCandidate,
    ImplantedDevice,
    IntakeItem,
    IntakeSubmission,
    LabKind,
    LabResult,
    Medication,
    Patient,
)
from .services import DEMOGRAPHIC_FIELDS

ENTRY_READ_ONLY: tuple[str, ...] = ("id", "source", "recorded_by", "recorded_at", "updated_at")


class PatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ("id", "mrn", *DEMOGRAPHIC_FIELDS, "merged_into", "created_at", "updated_at")
        read_only_fields = ("id", "mrn", "merged_into", "created_at", "updated_at")


class PatientBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = (
            "id",
            "mrn",
            "legal_first_name",
            "legal_last_name",
            "preferred_name",
            "date_of_birth",
            "phone",
            "email",
            "status",
        )
        read_only_fields = fields


class ClinicalEntrySerializer(serializers.ModelSerializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=NOTES_MAX)
    recorded_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        read_only_fields = ENTRY_READ_ONLY
        common = ("start_date", "end_date", "notes", *ENTRY_READ_ONLY)


class AllergySerializer(ClinicalEntrySerializer):
    class Meta(ClinicalEntrySerializer.Meta):
        model = Allergy
        fields = (
            "substance",
            "reaction",
            "severity",
            "procedure_class",
            *ClinicalEntrySerializer.Meta.common,
        )


class MedicationSerializer(ClinicalEntrySerializer):
    affects_bleeding = serializers.BooleanField(read_only=True)

    class Meta(ClinicalEntrySerializer.Meta):
        model = Medication
        fields = (
            "name",
            "drug_class",
            "dose",
            "frequency",
            "indication",
            "generics",
            "drug_classes",
            "classification",
            "affects_bleeding",
            *ClinicalEntrySerializer.Meta.common,
        )
        read_only_fields = (
            *ClinicalEntrySerializer.Meta.read_only_fields,
            "generics",
            "drug_classes",
            "classification",
        )
        extra_kwargs = {
            "name": {"help_text": "As typed: a brand, combination or generic name."},
            "drug_class": {
                "help_text": "Optional: a listed name takes its class from the drug vocabulary."
            },
        }


class LabResultSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=LabKind.choices)
    unit = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="Optional; the lab's unit when given.",
    )
    recorded_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = LabResult
        fields = ("id", "kind", "value", "unit", "taken_on", "notes", "recorded_by", "recorded_at")
        read_only_fields = ("id", "recorded_by", "recorded_at")


class ConditionSerializer(ClinicalEntrySerializer):
    icd10_flag = serializers.CharField(
        read_only=True, help_text='"not in the clinic\'s list" for a code outside it.'
    )

    class Meta(ClinicalEntrySerializer.Meta):
        model = Condition
        fields = (
            "kind",
            "description",
            "icd10_code",
            "icd10_flag",
            *ClinicalEntrySerializer.Meta.common,
        )

    def to_internal_value(self, data):
        if isinstance(data, dict) and isinstance(data.get("icd10_code"), str):
            data = {**data, "icd10_code": data["icd10_code"].strip().upper()}
        return super().to_internal_value(data)


class DeviceSerializer(ClinicalEntrySerializer):
    class Meta(ClinicalEntrySerializer.Meta):
        model = ImplantedDevice
        fields = (
            "kind",
            "description",
            "manufacturer",
            "model_name",
            *ClinicalEntrySerializer.Meta.common,
        )


class AssessmentSerializer(serializers.ModelSerializer):
    instrument = serializers.ChoiceField(choices=Instrument.choices)
    body_region = serializers.ChoiceField(
        choices=BodyRegion.choices, required=False, allow_blank=True
    )
    items = serializers.DictField(help_text='Item scores keyed by item, e.g. {"score": 6} for NRS.')
    taken_at = serializers.DateTimeField(required=False)
    recorded_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Assessment
        fields = (
            "id",
            "instrument",
            "body_region",
            "items",
            "taken_at",
            "total",
            "band",
            "flags",
            "source",
            "recorded_by",
            "recorded_at",
        )
        read_only_fields = ("id", "total", "band", "flags", "source", "recorded_by", "recorded_at")


class IntakeSubmitSerializer(serializers.Serializer):
    answers = serializers.DictField(
        help_text="chief_complaint, pain_locations, onset, pain_duration, treatments_tried, "
        "red_flags (every question answered true or false), blood_thinner (yes, no or "
        "not_sure; optional) and with yes blood_thinner_name (a name the drug vocabulary "
        "resolves, proposed as a medication)."
    )
    demographics = serializers.DictField(required=False, help_text="Patient fields to change.")
    allergies = serializers.ListField(child=serializers.DictField(), required=False)
    medications = serializers.ListField(child=serializers.DictField(), required=False)
    conditions = serializers.ListField(child=serializers.DictField(), required=False)
    devices = serializers.ListField(child=serializers.DictField(), required=False)
    assessments = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Baseline scores: [{instrument, items, body_region}], e.g. NRS and ODI or NDI.",
    )


class IntakeItemSerializer(serializers.ModelSerializer):
    decided_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = IntakeItem
        fields = (
            "id",
            "kind",
            "field",
            "proposed",
            "chart_value_at_submission",
            "decision",
            "decided_by",
            "decided_at",
            "decision_note",
            "replaced_value",
            "created_record_id",
        )
        read_only_fields = fields


class IntakeSerializer(serializers.ModelSerializer):
    items = IntakeItemSerializer(many=True, read_only=True)
    patient = PatientBriefSerializer(read_only=True)

    class Meta:
        model = IntakeSubmission
        fields = (
            "id",
            "patient",
            "status",
            "urgent",
            "urgent_reasons",
            "answers",
            "entered_by_staff",
            "submitted_at",
            "reviewed_at",
            "items",
        )
        read_only_fields = fields


class IntakeQueueSerializer(serializers.ModelSerializer):
    patient = PatientBriefSerializer(read_only=True)

    class Meta:
        model = IntakeSubmission
        fields = ("id", "patient", "status", "urgent", "urgent_reasons", "submitted_at")
        read_only_fields = fields


class IntakeDecisionSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    overwrite = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Replace a chart value that changed after the intake was submitted.",
    )


class DuplicateSerializer(serializers.ModelSerializer):
    patient = PatientBriefSerializer(read_only=True)
    match = PatientBriefSerializer(read_only=True)

    class Meta:
        model = DuplicateCandidate
        fields = ("id", "patient", "match", "reasons", "name_similarity", "status", "created_at")
        read_only_fields = fields


class MergeSerializer(serializers.Serializer):
    survivor = serializers.UUIDField(help_text="The record to keep: one of the pair.")


class PatientSearchSerializer(serializers.Serializer):
    search = serializers.CharField(
        max_length=100, help_text="Name, MRN, date of birth or phone (in the body, never a URL)."
    )
