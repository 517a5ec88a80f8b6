"""Admin screens: managers edit the catalog and every safety rule value here."""

from django.contrib import admin

from .models import (
    AnticoagulantRule,
    ProcedureOrder,
    ProcedureOutcome,
    ProcedureRecord,
    ProcedureType,
    SafetyOverride,
    SafetyThreshold,
    Steroid,
)


@admin.register(ProcedureType)
class ProcedureTypeAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "family",
        "region",
        "bleeding_risk",
        "room_kind",
        "default_minutes",
        "is_active",
    )
    list_filter = ("family", "region", "bleeding_risk", "room_kind", "sedation", "is_active")
    search_fields = ("name", "code", "cpt_codes")
    filter_horizontal = ("providers",)
    fieldsets = [
        (None, {"fields": ("code", "name", "family", "region", "purpose", "is_active")}),
        ("Coding and guidance", {"fields": ("cpt_codes", "imaging", "room_kind")}),
        (
            "Medicines and sedation",
            {"fields": ("steroid", "contrast", "sedation", "needs_driver", "fasting_hours")},
        ),
        (
            "Safety",
            {
                "fields": (
                    "bleeding_risk",
                    "side_applies",
                    "levels_apply",
                    "allowed_levels",
                    "max_levels",
                )
            },
        ),
        ("Time", {"fields": ("default_minutes", "minutes_per_extra_level", "turnover_minutes")}),
        (
            "Follow-up and preparation",
            {"fields": ("follow_up_plan", "follow_up_notes", "preparation")},
        ),
        ("Source", {"fields": ("uncertain_fields", "source_note")}),
    ]


@admin.register(SafetyThreshold)
class SafetyThresholdAdmin(admin.ModelAdmin):
    list_display = ("key", "value", "unit", "description", "source", "certain")
    list_editable = ("value",)
    search_fields = ("key", "description")
    readonly_fields = ("updated_at",)


@admin.register(AnticoagulantRule)
class AnticoagulantRuleAdmin(admin.ModelAdmin):
    list_display = (
        "drug",
        "drug_class",
        "high_decision",
        "high_hours",
        "intermediate_decision",
        "intermediate_hours",
        "low_decision",
        "low_hours",
        "certain",
    )
    list_filter = ("drug_class", "certain")
    search_fields = ("drug",)


@admin.register(Steroid)
class SteroidAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "methylprednisolone_factor",
        "max_dose_per_session_mg",
        "particulate",
        "certain",
    )


class OverrideInline(admin.TabularInline):
    model = SafetyOverride
    extra = 0
    can_delete = False
    readonly_fields = ("finding_code", "reason", "overridden_by", "overridden_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ProcedureOrder)
class ProcedureOrderAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "procedure_type",
        "patient",
        "status",
        "auth_status",
        "planned_date",
        "ordered_at",
    )
    list_filter = ("status", "auth_status", "urgency", "procedure_type__family")
    raw_id_fields = ("patient",)
    list_select_related = ("procedure_type", "patient")
    readonly_fields = ("findings", "checked_at", "ordered_by", "ordered_at", "cancelled_by")
    inlines = [OverrideInline]


class OutcomeInline(admin.TabularInline):
    model = ProcedureOutcome
    extra = 0
    readonly_fields = ("percent_relief",)


@admin.register(ProcedureRecord)
class ProcedureRecordAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "procedure_type",
        "patient",
        "performed_at",
        "performer",
        "best_relief_percent",
    )
    list_filter = ("procedure_type__family", "guidance", "location")
    raw_id_fields = ("patient", "order")
    list_select_related = ("procedure_type", "patient", "performer")
    readonly_fields = ("best_relief_percent", "recorded_by", "recorded_at")
    inlines = [OutcomeInline]


@admin.register(SafetyOverride)
class SafetyOverrideAdmin(admin.ModelAdmin):
    """Overrides are history: readable, never edited."""

    list_display = ("finding_code", "order", "overridden_by", "overridden_at")
    readonly_fields = ("order", "finding_code", "reason", "overridden_by", "overridden_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProcedureOutcome)
class ProcedureOutcomeAdmin(admin.ModelAdmin):
    list_display = ("record", "measured_at", "nrs", "percent_relief", "source")
    raw_id_fields = ("record",)
    readonly_fields = ("percent_relief",)
