from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.core.bounds import NOTES_MAX
from clinic.users.models import User

from .models import (
    AuthStatus,
    ProcedureCode,
    ProcedureOrder,
    ProcedureOutcome,
    ProcedureRecord,
    ProcedureType,
    SafetyOverride,
    Side,
    Steroid,
)
from .services import unresolved_blocks
from .until import CONDITION, DATE, NEVER


class ProcedureCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProcedureCode
        fields = ("code", "description", "add_on", "modifiers", "certain")
        read_only_fields = fields


class ProcedureTypeSerializer(serializers.ModelSerializer):
    cpt_codes = ProcedureCodeSerializer(source="procedure_codes", many=True, read_only=True)

    class Meta:
        model = ProcedureType
        exclude = ("is_active",)
        read_only_fields = [f.name for f in ProcedureType._meta.fields]


class UntilSerializer(serializers.Serializer):
    """Until when a finding stands (procedures/until.py)."""

    kind = serializers.ChoiceField(choices=[DATE, CONDITION, NEVER])
    text = serializers.CharField(allow_blank=True, help_text='Read after "Until" for a condition.')
    date = serializers.DateField(allow_null=True)
    eligible = serializers.BooleanField(
        help_text="The date is when the procedure becomes allowed (past: eligible now)."
    )


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["block", "warn", "info"])
    reason = serializers.CharField(help_text="What was found, and why it matters.")
    # The finding's "source" never shadows Field.source: the metaclass takes fields off the class.
    source = serializers.CharField()  # type: ignore[assignment]  # metaclass pops declared fields
    details = serializers.DictField()
    until = UntilSerializer(required=False, help_text="Absent on findings saved before it.")
    action = serializers.CharField(required=False, help_text="What to do about it.")
    overridden = serializers.BooleanField(required=False)


class OverrideSerializer(serializers.ModelSerializer):
    overridden_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = SafetyOverride
        fields = ("finding_code", "reason", "overridden_by", "overridden_at")
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    """The clinician's view of an order: everything, findings included."""

    procedure_type = serializers.SlugRelatedField(
        slug_field="code", queryset=ProcedureType.objects.filter(is_active=True)
    )
    procedure_name = serializers.CharField(source="procedure_type.name", read_only=True)
    ordered_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    overrides = OverrideSerializer(many=True, read_only=True)
    findings = serializers.SerializerMethodField()
    auth_requested_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ProcedureOrder
        fields = (
            "id",
            "patient",
            "procedure_type",
            "procedure_name",
            "side",
            "levels",
            "indication_code",
            "indication_text",
            "urgency",
            "planned_date",
            "status",
            "auth_status",
            "auth_number",
            "auth_expires",
            "auth_requested_at",
            "auth_requested_by",
            "findings",
            "checked_at",
            "overrides",
            "ordered_by",
            "ordered_at",
            "cancel_reason",
            "notes",
        )
        read_only_fields = (
            "id",
            "status",
            "auth_requested_at",
            "checked_at",
            "ordered_by",
            "ordered_at",
            "cancel_reason",
        )
        extra_kwargs = {"notes": {"max_length": NOTES_MAX}}

    @extend_schema_field(FindingSerializer(many=True))
    def get_findings(self, order) -> list[dict]:
        overridden = {o.finding_code for o in order.overrides.all()}
        return [f | {"overridden": f["code"] in overridden} for f in order.findings]


class DeskOrderSerializer(serializers.ModelSerializer):
    """The front desk's view: what it needs to schedule, no clinical notes or findings."""

    procedure_type: serializers.SlugRelatedField[ProcedureType] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    procedure_name = serializers.CharField(source="procedure_type.name", read_only=True)
    minutes = serializers.SerializerMethodField()
    blocked = serializers.SerializerMethodField(help_text="A safety finding blocks scheduling.")
    auth_requested_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ProcedureOrder
        fields = (
            "id",
            "patient",
            "procedure_type",
            "procedure_name",
            "side",
            "levels",
            "urgency",
            "planned_date",
            "status",
            "auth_status",
            "auth_number",
            "auth_expires",
            "auth_requested_at",
            "auth_requested_by",
            "minutes",
            "blocked",
        )
        read_only_fields = fields

    def get_minutes(self, order) -> int:
        return order.procedure_type.minutes_for(len(order.levels))

    def get_blocked(self, order) -> bool:
        return bool(unresolved_blocks(order))


class PatientOrderSerializer(serializers.ModelSerializer):
    """What a patient sees of their own scheduled procedure."""

    procedure_name = serializers.CharField(source="procedure_type.name", read_only=True)
    preparation = serializers.CharField(source="procedure_type.preparation", read_only=True)

    class Meta:
        model = ProcedureOrder
        fields = ("id", "procedure_name", "planned_date", "preparation")
        read_only_fields = fields


class AuthorizationSerializer(serializers.Serializer):
    auth_status = serializers.ChoiceField(choices=AuthStatus.choices)
    auth_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    auth_expires = serializers.DateField(required=False, allow_null=True, default=None)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class OverrideRequestSerializer(serializers.Serializer):
    finding_code = serializers.CharField(max_length=80)
    reason = serializers.CharField(max_length=300)


class SafetyCheckRequestSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    procedure_type = serializers.SlugRelatedField(
        slug_field="code", queryset=ProcedureType.objects.filter(is_active=True)
    )
    planned_date = serializers.DateField()
    side = serializers.ChoiceField(choices=Side.choices, required=False, default="")
    levels = serializers.ListField(
        child=serializers.CharField(max_length=8), required=False, default=list
    )


class SafetyCheckResponseSerializer(serializers.Serializer):
    findings = FindingSerializer(many=True)
    disclaimer = serializers.CharField()


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProcedureOutcome
        fields = ("id", "measured_at", "nrs", "pgic", "percent_relief", "source")
        read_only_fields = ("id", "percent_relief", "source")


class RecordSerializer(serializers.ModelSerializer):
    procedure_type = serializers.SlugRelatedField(
        slug_field="code", queryset=ProcedureType.objects.all(), required=False
    )
    steroid = serializers.PrimaryKeyRelatedField(
        queryset=Steroid.objects.all(), required=False, allow_null=True
    )
    outcomes = OutcomeSerializer(many=True, read_only=True)
    recorded_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ProcedureRecord
        fields = (
            "id",
            "order",
            "patient",
            "procedure_type",
            "performed_at",
            "performer",
            "location",
            "side",
            "levels",
            "guidance",
            "steroid",
            "steroid_dose_mg",
            "local_anaesthetic",
            "contrast",
            "contrast_volume_ml",
            "fluoroscopy_seconds",
            "fluoroscopy_dose_mgy",
            "pre_nrs",
            "post_nrs",
            "complications",
            "notes",
            "pump_reservoir_ml",
            "pump_concentration",
            "pump_concentration_unit",
            "pump_daily_dose",
            "pump_dose_unit",
            "next_refill_due",
            "pump_alarm_date",
            "best_relief_percent",
            "outcomes",
            "recorded_by",
            "recorded_at",
        )
        read_only_fields = (
            "id",
            "best_relief_percent",
            "pump_alarm_date",
            "recorded_by",
            "recorded_at",
        )
        # The service answers a second record for one order with a 409, not a field error.
        extra_kwargs = {
            "patient": {"required": False},
            "order": {"required": False, "validators": []},
            "complications": {"max_length": NOTES_MAX},
            "notes": {"max_length": NOTES_MAX},
        }
